"""The admin page (`/admin`) and its JSON API (`/api/v1`), behind `LEADROUTER_ADMIN_TOKEN`."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask

from webhook_app.admin.auth import SESSION_HOURS, Throttle, session_key


def register(app: Flask) -> None:
    """Add both blueprints, the cookie-session settings and the wrong-token throttle."""
    from webhook_app.admin import api, pages

    token = app.extensions["leadrouter"].settings.admin_token
    # Without a token the interface answers 503; a random key keeps Flask's session machinery sane.
    app.secret_key = session_key(token.get_secret_value()) if token else secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME="leadrouter_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )
    app.extensions["leadrouter.throttle"] = Throttle()
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
