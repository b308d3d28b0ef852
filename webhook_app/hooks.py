"""`POST /hooks/<crm>/<secret>`: verify, parse the minimum, store durably, then answer 200."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask import request as flask_request
from flask.typing import ResponseReturnValue

from adapters.amocrm.webhook import AmoLeadEvent, parse_amocrm_webhook
from adapters.bitrix24.webhook import Bitrix24Event, parse_bitrix24_event, verify_bitrix24_event
from adapters.errors import ForbiddenWebhook, MalformedWebhook
from adapters.storage.intake import IncomingEvent
from webhook_app.bootstrap import Services

bp = Blueprint("hooks", __name__)
FORM = "application/x-www-form-urlencoded"
# amoCRM actions that create a lead for us to route; the others only update what we know.
AMO_NEW = {"add"}
AMO_UPDATES = {"update", "status", "responsible", "delete", "restore"}
BITRIX_NEW = {"ONCRMLEADADD": "lead", "ONCRMDEALADD": "deal"}
BITRIX_UPDATES = {
    "ONCRMLEADUPDATE": "lead",
    "ONCRMDEALUPDATE": "deal",
    "ONCRMLEADDELETE": "lead",
    "ONCRMDEALDELETE": "deal",
    "ONCRMDEALMOVETOCATEGORY": "deal",
}


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
    if crm not in ("amocrm", "bitrix24") or crm != services.crm_type:
        return _reject(
            crm if crm in ("amocrm", "bitrix24") else "unknown", "not_configured", 404, "no such hook"
        )
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
        events = _amocrm(pairs, services) if crm == "amocrm" else _bitrix24(pairs, services)
    except ForbiddenWebhook as exc:
        return _reject(crm, "forbidden", 403, str(exc))
    except MalformedWebhook as exc:
        return _reject(crm, "malformed", 400, exc.reason)
    stored = services.intake.store(events)
    fresh = sum(stored)
    services.metrics.stored.labels(crm).inc(fresh)
    services.metrics.duplicates.labels(crm).inc(len(stored) - fresh)
    return jsonify(ok=True, stored=fresh, duplicates=len(stored) - fresh)


def _amocrm(pairs: list[tuple[str, str]], services: Services) -> list[IncomingEvent]:
    crm = services.config.current.crm
    account = str(crm.account_id) if crm.account_id is not None else None
    hook = parse_amocrm_webhook(pairs, account_id=account, subdomain=crm.subdomain)
    return [_amo_event(event, hook.account_id or hook.subdomain or "") for event in hook.events]


def _amo_event(event: AmoLeadEvent, account: str) -> IncomingEvent:
    payload: dict[str, Any] = {
        "action": event.action,
        "responsible_user_id": event.responsible_user_id,
        "stage_id": event.status_id,
        "pipeline_id": event.pipeline_id,
        "modified_user_id": event.modified_user_id,
        "updated_at": event.updated_at,
    }
    kind = "lead" if event.action in AMO_NEW else "event" if event.action in AMO_UPDATES else None
    if event.action == "delete":
        payload = {"action": "delete"}
    return IncomingEvent("amocrm", event.dedup_key(account), event.action, event.lead_id, payload, kind)


def _bitrix24(pairs: list[tuple[str, str]], services: Services) -> list[IncomingEvent]:
    token = services.settings.bitrix24_app_token
    if token is None:
        raise ForbiddenWebhook("LEADROUTER_BITRIX24_APP_TOKEN is not set")
    event = parse_bitrix24_event(pairs)
    crm = services.config.current.crm
    verify_bitrix24_event(
        event, application_token=token.get_secret_value(), domain=crm.domain, member_id=crm.member_id
    )
    return [_bitrix_event(event, crm.entity)]


def _bitrix_event(event: Bitrix24Event, routed_entity: str) -> IncomingEvent:
    entity = BITRIX_NEW.get(event.event) or BITRIX_UPDATES.get(event.event)
    lead_id = f"{entity}:{event.entity_id}" if entity and event.entity_id else None
    kind = None
    payload: dict[str, Any] = {"action": event.event.lower(), "robot": not event.has_user_tokens}
    if event.event in BITRIX_NEW and entity == routed_entity:
        kind = "lead"
    elif event.event in BITRIX_UPDATES and entity == routed_entity:
        kind = "event"
        if event.event.endswith("DELETE"):
            payload["action"] = "delete"
    key = event.dedup_key()
    if kind == "event":
        # An update event is only "something changed" plus a second-resolution `ts`: two real
        # changes in one second look exactly like one event delivered twice. Dropping the second
        # would lose a stage move (our own echo and a person's move often share a second), while
        # storing a true duplicate is harmless — the handler reads the current state and finds
        # nothing new. So updates are never deduplicated; creations still are.
        key = f"{key}:{uuid.uuid4().hex[:12]}"
    return IncomingEvent("bitrix24", key, event.event, lead_id, payload, kind)
