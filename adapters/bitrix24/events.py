"""Bitrix24 event → the event we store: which events route an entity, which only update (pure)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from adapters.bitrix24.webhook import Bitrix24Event, parse_bitrix24_event, verify_bitrix24_event
from adapters.errors import ForbiddenWebhook
from adapters.storage.intake import IncomingEvent
from core.kinds import JobKind

NEW = {"ONCRMLEADADD": "lead", "ONCRMDEALADD": "deal"}
UPDATES = {
    "ONCRMLEADUPDATE": "lead",
    "ONCRMDEALUPDATE": "deal",
    "ONCRMLEADDELETE": "lead",
    "ONCRMDEALDELETE": "deal",
    "ONCRMDEALMOVETOCATEGORY": "deal",
}


_EVENT = re.compile(r"^ONCRM(?:LEAD|DEAL)(ADD|UPDATE|DELETE|MOVETOCATEGORY)$")


def incoming_events(
    pairs: list[tuple[str, str]], *, crm: Mapping[str, Any], secrets: Mapping[str, str | None]
) -> list[IncomingEvent]:
    """The verified event of one POST as events to store; raises Forbidden/MalformedWebhook."""
    token = secrets.get("bitrix24_app_token")
    if token is None:
        raise ForbiddenWebhook("LEADROUTER_BITRIX24_APP_TOKEN is not set")
    event = parse_bitrix24_event(pairs)
    verify_bitrix24_event(
        event, application_token=token, domain=crm.get("domain"), member_id=crm.get("member_id")
    )
    return [_event(event, str(crm.get("entity") or "lead"))]


def _event(event: Bitrix24Event, routed_entity: str) -> IncomingEvent:
    entity = NEW.get(event.event) or UPDATES.get(event.event)
    lead_id = f"{entity}:{event.entity_id}" if entity and event.entity_id else None
    kind: JobKind | None = None
    payload: dict[str, Any] = {"action": event.event.lower(), "robot": not event.has_user_tokens}
    if event.event in NEW and entity == routed_entity:
        kind = JobKind.LEAD
    elif event.event in UPDATES and entity == routed_entity:
        kind = JobKind.EVENT
        if event.event.endswith("DELETE"):
            payload["action"] = "delete"
    key = event.dedup_key()
    if kind is JobKind.EVENT:
        # An update event is only "something changed" plus a second-resolution `ts`: two real
        # changes in one second look exactly like one event delivered twice. Dropping the second
        # would lose a stage move (our own echo and a person's move often share a second), while
        # storing a true duplicate is harmless — the handler reads the current state and finds
        # nothing new. So updates are never deduplicated; creations still are.
        key = f"{key}:{uuid.uuid4().hex[:12]}"
    return IncomingEvent("bitrix24", key, event.event, lead_id, payload, kind, action=_action(event.event))


def _action(name: str) -> str:
    """ONCRMDEALUPDATE → update, ONCRMLEADADD → add, ONCRMDEALMOVETOCATEGORY → category."""
    match = _EVENT.match(name)
    return match.group(1).lower().replace("movetocategory", "category") if match else name.lower()
