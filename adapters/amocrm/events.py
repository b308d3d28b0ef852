"""amoCRM webhook → the events we store: which actions route a lead, which only update (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.amocrm.webhook import AmoLeadEvent, parse_amocrm_webhook
from adapters.storage.intake import IncomingEvent
from core.kinds import JobKind

# amoCRM actions that create a lead for us to route; the others only update what we know.
NEW = {"add"}
UPDATES = {"update", "status", "responsible", "delete", "restore"}


def incoming_events(
    pairs: list[tuple[str, str]], *, crm: Mapping[str, Any], secrets: Mapping[str, str | None]
) -> list[IncomingEvent]:
    """The decoded form of one POST as events to store; raises Forbidden/MalformedWebhook."""
    account = str(crm["account_id"]) if crm.get("account_id") is not None else None
    hook = parse_amocrm_webhook(pairs, account_id=account, subdomain=crm.get("subdomain"))
    return [_event(event, hook.account_id or hook.subdomain or "") for event in hook.events]


def _event(event: AmoLeadEvent, account: str) -> IncomingEvent:
    payload: dict[str, Any] = {
        "action": event.action,
        "responsible_user_id": event.responsible_user_id,
        "stage_id": event.status_id,
        "pipeline_id": event.pipeline_id,
        "modified_user_id": event.modified_user_id,
        "updated_at": event.updated_at,
    }
    kind = JobKind.LEAD if event.action in NEW else JobKind.EVENT if event.action in UPDATES else None
    if event.action == "delete":
        payload = {"action": "delete"}
    return IncomingEvent("amocrm", event.dedup_key(account), event.action, event.lead_id, payload, kind)
