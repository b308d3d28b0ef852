"""Who may use `/admin` and `/api/v1`: the holder of `LEADROUTER_ADMIN_TOKEN`.

Scripts send `Authorization: Bearer <token>`; people log in once through a form that sets a signed
HttpOnly, SameSite=Strict session cookie. Tokens are compared in constant time, and a client that
keeps guessing is throttled on both ways in, across every process (`throttle`). Cookie sessions
must send the session's CSRF token with every POST (a form field or the `X-CSRF-Token` header);
Bearer requests need none — a browser never adds that header by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from webhook_app.web.admin.throttle import Throttle, client_address, trusted_networks

F = TypeVar("F", bound=Callable[..., Any])

SESSION_HOURS = 12
THROTTLED = "too many wrong tokens; try again in a minute"


def session_key(token: str) -> bytes:
    """The cookie-signing key, derived from the admin token: every process agrees on it, and
    changing the token ends every session."""
    return hmac.new(token.encode(), b"leadrouter admin session", hashlib.sha256).digest()


def configured_token() -> str | None:
    """The admin token in clear, or None when the admin interface is switched off."""
    token = current_app.extensions["leadrouter"].settings.admin_token
    return token.get_secret_value() if token is not None else None


def token_matches(given: str) -> bool:
    """Constant-time comparison with the configured token."""
    expected = configured_token()
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


def client() -> str:
    """The client's address (through `LEADROUTER_TRUSTED_PROXIES` only; see `throttle`)."""
    setting = current_app.extensions["leadrouter"].settings.trusted_proxies or ""
    return client_address(
        request.remote_addr, request.headers.get("X-Forwarded-For"), trusted_networks(setting)
    )


def check_token(given: str) -> bool | None:
    """Compare, counting wrong tokens per client: True if right, False if wrong, None if throttled
    (then the token is not even compared)."""
    throttle: Throttle = current_app.extensions["leadrouter.throttle"]
    who = client()
    if throttle.blocked(who, given):
        return None
    if token_matches(given):
        return True
    throttle.failed(who, given)
    return False


def authenticate() -> str | None:
    """How this request is authenticated: "bearer", "session", "throttled", or None."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        right = check_token(header[7:].strip())
        return "bearer" if right else "throttled" if right is None else None
    if session.get("admin") and session.get("expires", 0) > time.time():
        return "session"
    return None


def log_in(token: str) -> bool | None:
    """Start a cookie session if the token is right; None while this client is throttled."""
    right = check_token(token)
    if not right:
        return right
    session.clear()
    session["admin"] = True
    session["expires"] = time.time() + SESSION_HOURS * 3600
    session["csrf"] = secrets.token_urlsafe(24)
    session.permanent = True
    return True


def local_admin_path(target: str) -> bool:
    """Only a path of this site's admin page: never an open redirect, never a control character
    (a CR or LF would split the Location header)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in target) or "\\" in target or "//" in target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme and not parts.netloc and (parts.path == "/admin" or parts.path.startswith("/admin/"))
    )


def csrf_token() -> str:
    """This session's CSRF token (for forms and the page's scripts)."""
    return str(session.get("csrf", ""))


def _csrf_ok() -> bool:
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf", "")
    expected = csrf_token()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _guard(api: bool) -> ResponseReturnValue | None:
    if configured_token() is None:
        message = "the admin interface is off: set LEADROUTER_ADMIN_TOKEN"
        return (jsonify(error=message), 503) if api else (message, 503)
    how = authenticate()
    if how == "throttled" or (
        how is None and current_app.extensions["leadrouter.throttle"].blocked(client())
    ):
        return jsonify(error=THROTTLED), 429
    if how is None:
        if api:
            return jsonify(error="unauthorized: send Authorization: Bearer <LEADROUTER_ADMIN_TOKEN>"), 401
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    if request.method == "POST" and how == "session" and not _csrf_ok():
        abort(400, description="missing or wrong CSRF token: reload the page and try again")
    g.admin_via = how
    return None


def _guarded(api: bool) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = _guard(api)
            return refused if refused is not None else view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


admin_required = _guarded(api=False)
admin_required.__doc__ = "Pages: a redirect to the login form without a session or a Bearer token."
api_required = _guarded(api=True)
api_required.__doc__ = "API: 401 JSON without a session or a Bearer token."


def actor() -> str:
    """Who made this request, as the audit log names them (never the token)."""
    via = g.get("admin_via", "?")
    return f"admin ({'api' if via == 'bearer' else 'web'}, {client()})"
