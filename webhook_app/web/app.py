"""The Flask application factory: blueprints per area, errors mapped to HTTP in one place."""

from __future__ import annotations

import io

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webhook_app.bootstrap import Services, build_services
from webhook_app.settings import Settings
from webhook_app.web.redact import redact_path

MAX_BODY_BYTES = 1024 * 1024  # a big amoCRM batch is a few hundred kB; more is not a webhook


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the web app around shared services (built from settings if not given)."""
    from webhook_app.web import admin, health, hooks

    app = Flask("leadrouter")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    services = app.extensions["leadrouter"] = services or build_services(settings)
    app.before_request(_cap_streamed_body)
    # A version put in force elsewhere (reload, SIGHUP, the admin page) is picked up here too.
    app.before_request(_follow_config)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(health.bp)
    admin.register(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _cap_streamed_body() -> None:
    """Hold a body sent without Content-Length (chunked) to the cap on the bytes actually read.

    Werkzeug refuses a Content-Length over `MAX_CONTENT_LENGTH` before reading, but a streamed body
    is read through a stream that stops at the cap and returns what it read, silently cut; so we
    read it here, one byte past the cap at most: over it is 413 before anything runs, within it the
    request goes on with the bytes read and their length.
    """
    environ = request.environ
    if request.content_length is not None or "wsgi.input_terminated" not in environ:
        return  # measured by Werkzeug; or a server that gives no body without a length
    raw, body = environ["wsgi.input"], bytearray()
    while len(body) <= MAX_BODY_BYTES:
        chunk = raw.read(min(64 * 1024, MAX_BODY_BYTES + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    environ.pop("HTTP_TRANSFER_ENCODING", None)  # what follows reads a plain body of this length
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(bytes(body)), str(len(body))


def _follow_config() -> None:
    from flask import current_app

    current_app.extensions["leadrouter"].config.sync()


def _http_error(error: HTTPException) -> ResponseReturnValue:
    return jsonify(error=error.description or error.name), error.code or 500


def _unexpected(error: Exception) -> ResponseReturnValue:
    # Flask's own logging would print the URL, and ours carry the webhook secret.
    from flask import current_app

    current_app.logger.error(
        "unhandled error on %s %s: %s",
        request.method,
        redact_path(request.path),
        type(error).__name__,
        exc_info=error,
    )
    return jsonify(error="internal error"), 500
