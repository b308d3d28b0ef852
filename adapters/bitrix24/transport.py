"""One REST call to Bitrix24: paced by the shared bucket, authorised, retried, errors mapped.

Why each step (bitrix24.md): the leaky bucket is per portal *and source IP*, so every process of
ours shares one budget (§5.1) — the GCRA limiter in our database; a 503 QUERY_LIMIT_EXCEEDED means
the portal's bucket is fuller than ours thinks (other apps on this host), so we mark ours full too;
a 429 OPERATION_TIME_LIMIT blocks one method until `operating_reset_at` (§5.2), too long to sleep
inside a call (an outbox lease would lapse), so it surfaces as RateLimited at once; a 401
`expired_token` is refreshed once and the call repeated (§4.2); 5xx and timeouts are retried by
adapters.http.retrying; validation, "Not found" and ACCESS_DENIED never are.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.bitrix24 import redact
from adapters.bitrix24.auth import Credentials
from adapters.bitrix24.status import EXPIRED_TOKEN, OPERATION_LIMIT, QUERY_LIMIT, error_for
from adapters.errors import PermanentCrmError, RateLimited, TransientCrmError
from adapters.http import retrying, translate_transport_errors
from adapters.ratelimit import SharedRateLimiter
from adapters.storage.kv import lock_value, write_value

Body = dict[str, Any]
USER_AGENT = "leadrouter-bitrix24/0.1"  # §2.1: pass a real User-Agent


class Bucket(SharedRateLimiter):
    """The shared GCRA limiter, plus `saturate` for when the portal says its bucket is full."""

    def saturate(self, wait: float = 0.0) -> None:
        """Assume the portal's bucket is full now: every process's next call waits one drain
        interval, or `wait` seconds if that is longer (a Retry-After the portal sent)."""
        key, interval = f"ratelimit:{self.name}", 1.0 / self.rate
        now = self.clock()
        with self.engine.begin() as connection:
            value = lock_value(connection, key)
            if value is None:
                return
            tat = max(float(value["tat"]), now + (self.burst - 1) * interval + max(interval, wait))
            write_value(connection, key, {"tat": tat}, datetime.fromtimestamp(now, UTC))


class _Deferred(Exception):
    """A RateLimited too long to wait for inside a call: leaves the retry loop untouched."""

    def __init__(self, error: RateLimited) -> None:
        super().__init__(str(error))
        self.error = error


class Transport:
    """Calls REST methods; counts requests and 503s for benchmarks and tests."""

    def __init__(
        self,
        *,
        credentials: Credentials,
        http: httpx.Client,
        bucket: Bucket,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        attempts: int = 5,
        max_inline_wait: float = 10.0,
    ) -> None:
        redact.install()  # httpx logs request URLs, and a webhook URL is a secret
        self.credentials, self.http, self.bucket = credentials, http, bucket
        self.sleep, self.clock, self.attempts = sleep, clock, attempts
        self.max_inline_wait = max_inline_wait
        self.requests = 0
        self.limited = 0
        self._reset_at: dict[str, float] = {}  # method → operating_reset_at from its last answer
        self._blocked: dict[str, float] = {}  # method → time its 429 block ends

    def __repr__(self) -> str:
        return "Transport(***)"

    def call(self, method: str, params: Body | None = None) -> Body:
        """The JSON body of a successful call (with `result`, maybe `total`/`next`, `time`)."""
        try:
            for attempt in retrying(attempts=self.attempts, sleep=self.sleep):
                with attempt:
                    return self._once(method, params or {})
        except _Deferred as deferred:
            raise deferred.error from None
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _once(self, method: str, params: Body) -> Body:
        blocked = self._blocked.get(method, 0.0) - self.clock()
        if blocked > 0:
            raise _Deferred(RateLimited(f"{method}: blocked by OPERATION_TIME_LIMIT", retry_after=blocked))
        refreshed = False
        while True:
            self.bucket.acquire()
            url, auth = self.credentials.request(method)
            body_out = {**params, **auth}
            response = translate_transport_errors(functools.partial(self._post, url, body_out))
            self.requests += 1
            body = _json(response)
            if response.status_code == 200 and body is not None and "error" not in body:
                self._note_time(method, body.get("time"))
                return body
            code = str((body or {}).get("error") or "")
            if code == EXPIRED_TOKEN and self.credentials.can_refresh and not refreshed:
                self.credentials.refresh(auth)  # §4.2: refresh once, then repeat the call
                refreshed = True
                continue
            raise self._failure(method, response, body or {}, code)

    def _post(self, url: str, body: Body) -> httpx.Response:
        return self.http.post(url, json=body, headers={"User-Agent": USER_AGENT})

    def _failure(self, method: str, response: httpx.Response, body: Body, code: str) -> Exception:
        status = response.status_code
        if 300 <= status < 400:
            # §4.3: the portal moved to another domain. Location is never echoed: for a webhook it
            # would carry the secret path.
            return PermanentCrmError(
                f"{method}: portal moved (HTTP {status}); update the URLs", detail="MOVED"
            )
        if status == 200:  # §5.3: an HTML page instead of JSON under heavy load
            return TransientCrmError(f"{method}: unexpected answer (not JSON)")
        description = str(body.get("error_description") or "")
        if code == QUERY_LIMIT:
            self.limited += 1
            wait = max(1.0 / self.bucket.rate, _retry_after(response))
            self.bucket.saturate(wait)  # every process backs off, not only this caller
            limited = error_for(method, status, code, description, retry_after=wait)
            if wait > self.max_inline_wait and isinstance(limited, RateLimited):
                return _Deferred(limited)
            return limited
        if code == OPERATION_LIMIT or status == 429:
            wait = self._operating_wait(method, body.get("time"))
            self._blocked[method] = self.clock() + wait
            error = error_for(method, status, code, description, retry_after=wait)
            if wait > self.max_inline_wait and isinstance(error, RateLimited):
                return _Deferred(error)
            return error
        return error_for(method, status, code, description)

    def _note_time(self, method: str, section: object) -> None:
        if isinstance(section, dict) and section.get("operating_reset_at"):
            self._reset_at[method] = float(section["operating_reset_at"])

    def _operating_wait(self, method: str, section: object) -> float:
        """§5.2: retry at `operating_reset_at` (of this answer, else of the last good one), else 10 min."""
        reset = section.get("operating_reset_at") if isinstance(section, dict) else None
        at = float(reset) if reset else self._reset_at.get(method)
        return max(1.0, at - self.clock()) if at else 600.0


def _json(response: httpx.Response) -> Body | None:
    """The body as a JSON object, or None for HTML, plain text or garbage (§5.3)."""
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(response: httpx.Response) -> float:
    """A `Retry-After` header in seconds (not documented for Bitrix24, honoured if a proxy sends it)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return 0.0
