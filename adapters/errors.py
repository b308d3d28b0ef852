"""Errors raised by the CRM adapters, the whole tree in one place.

    AdapterError
    ├── WebhookError                 a POST from a CRM that we refuse to store
    │   ├── MalformedWebhook         not a webhook we can read         (the web layer answers 400)
    │   └── ForbiddenWebhook         wrong application token, foreign account or portal      (403)
    └── CrmError                     a call to the CRM's API failed
        ├── TransientCrmError        worth retrying: 5xx, timeouts, dropped connections
        │   └── RateLimited          the CRM asked us to slow down (`retry_after`, seconds)
        ├── PermanentCrmError        the CRM refused the request for good (`detail`)
        │   ├── ValidationFailed     a batch refused for what some items hold (`items`: per item)
        │   └── AdminRightsNeeded    refused because the call needs an account admin's token
        └── AuthError                the token is invalid, expired beyond refresh, or revoked
            └── Blocked              the CRM shut this account or IP out (amoCRM: 403 after repeated
                                     429s, 402 unpaid); stop calling until `retry_after` has passed

Every message here may reach a log, the audit log or an HTTP response: it names fields, never
their values, and never carries a token or the raw body.
"""

from __future__ import annotations

_MAX_REASON = 200


def _safe(text: str) -> str:
    """Printable, bounded text: a hostile key must not forge log lines or flood a response."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text[:_MAX_REASON])
    return cleaned + ("…" if len(text) > _MAX_REASON else "")


class AdapterError(Exception):
    """Base of every error an adapter raises."""


class WebhookError(AdapterError):
    """A webhook POST we refuse; `reason` is short and safe to show to the sender."""

    def __init__(self, reason: str) -> None:
        self.reason = _safe(reason)
        super().__init__(self.reason)


class MalformedWebhook(WebhookError):
    """The body is not a webhook we can read (answer 400, do not store)."""


class ForbiddenWebhook(WebhookError):
    """The webhook is not for us: wrong application token, foreign account or portal (answer 403)."""


class CrmError(AdapterError):
    """A call to the CRM's API failed."""


class TransientCrmError(CrmError):
    """A failure worth retrying later: server error, timeout, dropped connection."""


class RateLimited(TransientCrmError):
    """The CRM asked us to slow down; `retry_after` is its hint in seconds, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentCrmError(CrmError):
    """The CRM refused the request for good (validation); retrying cannot help."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class ValidationFailed(PermanentCrmError):
    """A batch refused (400/422) for some items: `items` maps a request id (the item's index unless
    we sent our own) or `id:<entity id>` to that item's (path, detail) problems; empty when the
    CRM refused the request as a whole.
    """

    def __init__(
        self, message: str, *, status: int, items: dict[str, list[tuple[str, str]]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.items = items or {}


class AdminRightsNeeded(PermanentCrmError):
    """The CRM refused an administrative call (listing users): it needs an account admin's token.
    `crm_said` is the CRM's own answer, for a message in the reader's language."""

    def __init__(self, crm_said: str) -> None:
        super().__init__(f"{crm_said} (listing users needs an account admin's token)")
        self.crm_said = crm_said


class AuthError(CrmError):
    """The CRM rejected our credentials: invalid, expired beyond refresh, or revoked."""


class NoCredentials(AuthError):
    """No credentials for the CRM are set; `crm` names which, for a message in the reader's language."""

    def __init__(self, crm: str, message: str) -> None:
        super().__init__(message)
        self.crm = crm


class Blocked(AuthError):
    """The CRM refuses every call for a while (a ban after repeated 429s, an unpaid account): stop."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
