"""Bitrix24's answers turned into our error classes: one function, one rule per (status, code).

The facts are in bitrix24.md §5.3 (error table), §5.1 (leaky bucket), §5.2 (operating limit),
§2.2/§2.3 (legacy CRM errors with an empty `error` code). A description is short vendor text and
never carries our credentials, but it is bounded anyway; a raw body never reaches a message.
"""

from __future__ import annotations

from adapters.errors import AuthError, Blocked, CrmError, PermanentCrmError, RateLimited, TransientCrmError

# §5.3: transient server faults worth a retry with backoff.
_SERVER_FAULTS = frozenset({"INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER"})
# §5.3: credentials or rights refused; retrying the same call cannot help.
_AUTH_CODES = frozenset(
    {"NO_AUTH_FOUND", "invalid_token", "INVALID_CREDENTIALS", "authorization_error", "APPLICATION_NOT_FOUND"}
)
EXPIRED_TOKEN = "expired_token"
QUERY_LIMIT = "QUERY_LIMIT_EXCEEDED"
OPERATION_LIMIT = "OPERATION_TIME_LIMIT"


def describe(method: str, status: int | None, code: str, description: str) -> str:
    """`method: CODE (description) [HTTP n]`, bounded; safe to log."""
    said = " ".join(
        x for x in (code, f"({description[:120]})" if code and description else description[:120]) if x
    )
    said = said or "error"
    return f"{method}: {said}" + (f" [HTTP {status}]" if status else "")


def error_for(
    method: str, status: int | None, code: str, description: str, *, retry_after: float | None = None
) -> CrmError:
    """The error for one failed call or batch command; `status` is None inside a batch (§3)."""
    said = describe(method, status, code, description)
    # §5.1: the portal's leaky bucket is full (503). Back off, then retry.
    if code == QUERY_LIMIT:
        return RateLimited(said, retry_after=retry_after)
    # §5.2: this method used its 480 s of `operating` in 10 min (429): wait until operating_reset_at.
    if code == OPERATION_LIMIT or status == 429:
        return RateLimited(said, retry_after=retry_after)
    # §5.3: support blocked the REST API for overload (503 OVERLOAD_LIMIT): "do not hammer".
    if code == "OVERLOAD_LIMIT":
        return Blocked(said, retry_after=retry_after or 600.0)
    # §5.3: the portal is closed or deleted; nothing will work again.
    if code == "PORTAL_DELETED":
        return Blocked(said)
    # §4.2: the access token expired (401); the transport refreshes once before this is final.
    if code in (EXPIRED_TOKEN, *_AUTH_CODES) or status == 401:
        return AuthError(said)
    # §5.3: missing scope or right (403 ACCESS_DENIED, insufficient_scope, user_access_error):
    # the same call gets the same answer, so never retried; the item goes to dead letters.
    if code in ("ACCESS_DENIED", "insufficient_scope", "user_access_error") or status == 403:
        return PermanentCrmError(said, detail=code or "ACCESS_DENIED")
    # §5.3: 500 and friends, and any 5xx (also text/html bodies under load): retried.
    if code in _SERVER_FAULTS or (status is not None and status >= 500):
        return TransientCrmError(said)
    # §2.2/§5.3: validation and "Not found" (400, often with an empty code), batch misuse (400/405),
    # unknown method (404): a second identical request gets the same answer — never retried.
    return PermanentCrmError(said, detail=code or _legacy_code(description))


def _legacy_code(description: str) -> str:
    """A code for the legacy CRM errors whose `error` is empty (§2.2): from the description."""
    text = description.strip().rstrip(".").casefold()
    if text == "not found":
        return "NOT_FOUND"
    if text == "access denied":
        return "ACCESS_DENIED"
    return "INVALID_REQUEST"


def is_not_found(error: CrmError) -> bool:
    """True for "Not found" (legacy empty code, or NOT_FOUND / OWNER_NOT_FOUND of newer methods)."""
    return isinstance(error, PermanentCrmError) and error.detail in ("NOT_FOUND", "OWNER_NOT_FOUND")
