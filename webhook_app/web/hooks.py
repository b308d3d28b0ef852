"""`POST /hooks/<crm>/<secret>`: verify, parse the minimum, store durably, then answer 200."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify
from flask import request as flask_request
from flask.typing import ResponseReturnValue

from adapters.errors import ForbiddenWebhook, MalformedWebhook
from adapters.storage.intake import IncomingEvent
from webhook_app.bootstrap import Services, crm_module, crm_secrets

bp = Blueprint("hooks", __name__)
FORM = "application/x-www-form-urlencoded"
CRMS = ("amocrm", "bitrix24")


def _services() -> Services:
    services: Services = current_app.extensions["leadrouter"]
    return services


def _reject(crm: str, reason: str, status: int, message: str) -> ResponseReturnValue:
    _services().metrics.rejected.labels(crm, reason).inc()
    return jsonify(error=message), status


@bp.post("/hooks/<crm>/<secret>")
def receive(crm: str, secret: str) -> ResponseReturnValue:
    """One webhook request: nothing is acknowledged before it is on disk."""
    services = _services()
    if crm not in CRMS or crm != services.crm_type:
        return _reject(crm if crm in CRMS else "unknown", "not_configured", 404, "no such hook")
    services.metrics.received.labels(crm).inc()
    expected = services.settings.webhook_secret
    if expected is None:
        return _reject(crm, "no_secret", 503, "LEADROUTER_WEBHOOK_SECRET is not set")
    if not hmac.compare_digest(secret.encode(), expected.get_secret_value().encode()):
        return _reject(crm, "secret", 403, "forbidden")
    if flask_request.mimetype != FORM:
        return _reject(crm, "malformed", 400, f"expected {FORM}")
    pairs = list(flask_request.form.items(multi=True))
    try:
        events = _events(crm, pairs, services)
    except ForbiddenWebhook as exc:
        return _reject(crm, "forbidden", 403, str(exc))
    except MalformedWebhook as exc:
        return _reject(crm, "malformed", 400, exc.reason)
    stored = services.intake.store(events)
    fresh = sum(stored)
    services.metrics.stored.labels(crm).inc(fresh)
    services.metrics.duplicates.labels(crm).inc(len(stored) - fresh)
    return jsonify(ok=True, stored=fresh, duplicates=len(stored) - fresh)


def _events(crm: str, pairs: list[tuple[str, str]], services: Services) -> list[IncomingEvent]:
    """The CRM's own adapter reads its payload (`adapters.<crm>.events`); this view never does."""
    module = crm_module(crm, "events")
    if module is None:
        raise ForbiddenWebhook(f"this version cannot read {crm} webhooks")
    section = services.config.current.crm.model_dump()
    events: list[IncomingEvent] = module.incoming_events(
        pairs, crm=section, secrets=crm_secrets(services.settings, crm)
    )
    return events
