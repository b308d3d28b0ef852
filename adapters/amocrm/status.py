"""amoCRM's HTTP answers turned into our error classes: one function, one rule per status (§4).

Nothing of a response body reaches a message except amoCRM's own short `detail`/`path` texts,
bounded: bodies of the OAuth endpoint, which could echo credentials, are never read here.
"""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import ValidationError

from adapters.amocrm.schemas import Problem
from adapters.errors import (
    AuthError,
    Blocked,
    CrmError,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
    ValidationFailed,
)

_BLOCK_WORDS = ("block", "заблок")


def problem_of(response: httpx.Response) -> Problem:
    """The problem+json body, or an empty Problem for HTML, plain text or garbage (§4: 429 may be HTML)."""
    try:
        body: Any = json.loads(response.content or b"{}")
        return Problem.model_validate(body if isinstance(body, dict) else {})
    except (ValueError, ValidationError):
        return Problem()


def retry_after_of(response: httpx.Response, problem: Problem) -> float | None:
    """Seconds to wait: the body's `retry_after` (Kommo), else a `Retry-After` header (seconds or date)."""
    if problem.retry_after is not None and problem.retry_after >= 0:
        return problem.retry_after
    header = response.headers.get("Retry-After", "").strip()
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        date = parsedate_to_datetime(header)
        served = parsedate_to_datetime(response.headers.get("Date", header))
        return max(0.0, (date - served).total_seconds())
    except (TypeError, ValueError):
        return None


def error_for(response: httpx.Response, *, recently_limited: bool = False) -> CrmError:
    """The error for a non-2xx answer; `recently_limited` = we were answered 429 a short while ago."""
    status = response.status_code
    problem = problem_of(response)
    said = f"{status} {problem.title or response.reason_phrase}".strip()
    detail = (problem.hint or problem.detail)[:160]
    # 401: the access token is invalid, expired or revoked (§4); the transport has already tried
    # one OAuth refresh before this becomes final.
    if status == 401:
        return AuthError(f"{said}: amoCRM refused the token" + (f" ({detail})" if detail else ""))
    # 402: the account is not paid (§2.2): every call will fail until a person pays, so stop.
    if status == 402:
        return Blocked(f"{said}: the amoCRM account is not paid")
    # 403 after 429s is the abuse ban (§4 "repeated 429 → account blocked"): stop, never hammer it.
    if status == 403 and (recently_limited or any(w in detail.casefold() for w in _BLOCK_WORDS)):
        return Blocked(f"{said}: amoCRM blocked us for exceeding the request rate")
    # Any other 403: the token's user lacks the right (users and webhooks are admin-only, §2.4, §1.7).
    if status == 403:
        return PermanentCrmError(f"{said}: the token's user lacks the rights for this call", detail=detail)
    # 429: too many requests (§4). Retried, never sooner than amoCRM's own hint.
    if status == 429:
        return RateLimited(f"{said}: amoCRM rate limit", retry_after=retry_after_of(response, problem))
    # 400/422: validation (§4). The same body gets the same answer: never retried; items mapped.
    if status in (400, 422):
        return _validation(status, said, problem)
    # 408 and 499 (the client side of a timeout) and 5xx: the server may well answer next time.
    if status in (408, 499) or status >= 500:
        return TransientCrmError(f"{said}: amoCRM is not answering properly")
    # 404/405 and any other 4xx: a wrong path, method or a gone entity; repeating cannot help.
    return PermanentCrmError(f"{said}", detail=detail)


def _validation(status: int, said: str, problem: Problem) -> ValidationFailed:
    items: dict[str, list[tuple[str, str]]] = {}
    for item in problem.validation_errors:
        key = str(item.request_id) if item.request_id is not None else ""
        items.setdefault(key, []).extend(
            (e.path, f"{e.code}: {e.detail}".strip(": ")[:160]) for e in item.errors
        )
    # The older shape keys messages by entity id: {"errors": {"11062353": "Loss reason …"}} (§4).
    for entity_id, message in (problem.errors or {}).items():
        items.setdefault(f"id:{entity_id}", []).append(("", str(message)[:160]))
    summary = problem.detail[:160] or "request refused"
    return ValidationFailed(f"{said}: {summary}", status=status, items=items)
