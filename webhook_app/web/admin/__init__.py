"""The admin page (`/admin`) and its JSON API (`/api/v1`), behind `LEADROUTER_ADMIN_TOKEN`."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from webhook_app.web.admin.auth import SESSION_HOURS, session_key
from webhook_app.web.admin.readmodel import MAX_ID
from webhook_app.web.admin.throttle import Throttle


class IdConverter(IntegerConverter):
    """`<id:…>` in a route: a row id from 1 to MAX_ID; a bigger number is no such page (404)."""

    # With `<int:…>` a number past BIGINT reached the database driver, which cannot bind it: a 500.
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def register(app: Flask) -> None:
    """Add both blueprints, the cookie-session settings and the wrong-token throttle."""
    from webhook_app.web.admin import api, pages

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
    services = app.extensions["leadrouter"]
    key = session_key(token.get_secret_value()) if token else secrets.token_bytes(32)
    app.extensions["leadrouter.throttle"] = Throttle(services.engine, services.clock, key)
    app.url_map.converters["id"] = IdConverter  # before the blueprints: their rules use it
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
