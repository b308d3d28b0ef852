"""Who may use `/admin` and `/api/v1`: the holder of `LEADROUTER_ADMIN_TOKEN`.

Scripts send `Authorization: Bearer <token>`; people log in once through a form that sets a signed
HttpOnly, SameSite=Strict session cookie. Tokens are compared in constant time, and an address
that keeps guessing is throttled. Cookie sessions must send the session's CSRF token with every
POST (a form field or the `X-CSRF-Token` header); Bearer requests need none — a browser never
adds that header by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

F = TypeVar("F", bound=Callable[..., Any])

FAILURES_ALLOWED = 5  # wrong tokens per address…
FAILURE_WINDOW = 60.0  # …within this many seconds, then refused until the window has passed
SESSION_HOURS = 12


class Throttle:
    """Counts wrong tokens per client address, in this process."""

    def __init__(self, allowed: int = FAILURES_ALLOWED, window: float = FAILURE_WINDOW) -> None:
        self.allowed, self.window = allowed, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, who: str, now: float | None = None) -> bool:
        """True while this address has used up its attempts."""
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = self._recent(who, now)
            return len(recent) >= self.allowed

    def failed(self, who: str, now: float | None = None) -> None:
        """Count one wrong token."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent(who, now).append(now)

    def _recent(self, who: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(who, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures


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


def check_token(given: str) -> bool:
    """Compare, counting failures per address; False when wrong or throttled."""
    throttle: Throttle = current_app.extensions["leadrouter.throttle"]
    who = request.remote_addr or "?"
    if throttle.blocked(who):
        return False
    if token_matches(given):
        return True
    throttle.failed(who)
    return False


def authenticate() -> str | None:
    """How this request is authenticated: "bearer", "session", or None."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "bearer" if check_token(header[7:].strip()) else None
    if session.get("admin") and session.get("expires", 0) > time.time():
        return "session"
    return None


def log_in(token: str) -> bool:
    """Start a cookie session if the token is right."""
    if not check_token(token):
        return False
    session.clear()
    session["admin"] = True
    session["expires"] = time.time() + SESSION_HOURS * 3600
    session["csrf"] = secrets.token_urlsafe(24)
    session.permanent = True
    return True


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
    throttle: Throttle = current_app.extensions["leadrouter.throttle"]
    if throttle.blocked(request.remote_addr or "?"):
        return jsonify(error="too many wrong tokens; try again in a minute"), 429
    how = authenticate()
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
    return f"admin ({'api' if via == 'bearer' else 'web'}, {request.remote_addr or '?'})"
