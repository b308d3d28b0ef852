"""Changing leads, by the API or by a person, and the webhooks each change makes amoCRM send.

§8.2: an API PATCH of `responsible_user_id` → `responsible_lead` + `update_lead`; a stage move →
`status_lead` + `update_lead`; a new lead → `add_lead`. §8.6: a batch is validated as a whole and
refused with `validation-errors` naming the item (request_id = its index) and the path.
"""

from __future__ import annotations

from typing import Any

from sandbox.amocrm.hooks import HookSender
from sandbox.amocrm.render import hook_lead
from sandbox.amocrm.state import LOST, WON, Account, Lead, Party

Problem = tuple[str, str, str]  # code, path, detail
NOT_A_CHOICE = "The value you selected is not a valid choice."


def check_lead_patch(account: Account, item: Any, lead: Lead | None) -> list[Problem]:
    """What is wrong with one PATCH item (nothing → it may be applied)."""
    if not isinstance(item, dict):
        return [("InvalidType", "", "This value should be of type object.")]
    if lead is None:
        return [("NotFound", "id", "Entity not found")]
    problems: list[Problem] = []
    problems += _responsible(account, item)
    if "status_id" in item:
        pipeline = item.get("pipeline_id", lead.pipeline_id)
        if not account.stage_exists(pipeline, item["status_id"]):
            problems.append(("NotSupportedChoice", "status_id", NOT_A_CHOICE))
    reason = item.get("loss_reason_id")
    if reason is not None and reason not in account.loss_reasons:
        problems.append(("NotSupportedChoice", "loss_reason_id", NOT_A_CHOICE))
    for index, value in enumerate(item.get("custom_fields_values") or []):
        definition = account.fields.get("leads", {}).get(value.get("field_id"))
        if definition is None:
            problems.append(("NotSupportedChoice", f"custom_fields_values.{index}.field_id", NOT_A_CHOICE))
            continue
        for entry in value.get("values") or []:
            if definition.enums and entry.get("enum_id") not in definition.enums:
                problems.append(
                    ("NotSupportedChoice", f"custom_fields_values.{index}.values.0.enum_id", NOT_A_CHOICE)
                )
    return problems


def misplaced_reasons(changes: list[tuple[Lead, dict[str, Any]]]) -> dict[str, str]:
    """Leads given a loss reason that will not be lost after the change, by id: amoCRM refuses the
    request with `errors` naming them (§4 [S], §6 "loss_reason_id on a non-lost lead → 400")."""
    return {
        str(lead.id): "Loss reason can be specified only for lost lead"
        for lead, item in changes
        if item.get("loss_reason_id") is not None and item.get("status_id", lead.status_id) != LOST
    }


def _responsible(account: Account, item: dict[str, Any]) -> list[Problem]:
    """An unknown, inactive or free responsible is not a valid choice (§2.3, §6)."""
    if "responsible_user_id" not in item:
        return []
    wanted = item["responsible_user_id"]
    user = account.users.get(wanted) if isinstance(wanted, int) else None
    if user is None or not user.is_active or user.is_free:
        return [("NotSupportedChoice", "responsible_user_id", NOT_A_CHOICE)]
    return []


def check_party_patch(account: Account, kind: str, item: Any) -> list[Problem]:
    """What is wrong with one item of `PATCH /api/v4/contacts` or `/companies` (§2.3)."""
    if not isinstance(item, dict):
        return [("InvalidType", "", "This value should be of type object.")]
    party = account.parties.get(item["id"]) if isinstance(item.get("id"), int) else None
    if party is None or party.kind != kind:
        return [("NotFound", "id", "Entity not found")]
    return _responsible(account, item)


def apply_party_changes(account: Account, changes: list[tuple[Party, dict[str, Any]]]) -> None:
    """Apply checked contact or company changes: only the fields sent (§8.6)."""
    with account.lock:
        for party, item in changes:
            for key in ("name", "responsible_user_id"):
                if key in item:
                    setattr(party, key, item[key])
            party.updated_at = max(account.now(), party.created_at)


def apply_lead_changes(
    account: Account, hooks: HookSender, changes: list[tuple[Lead, dict[str, Any]]], user_id: int
) -> None:
    """Apply checked changes (only the fields sent, §8.6) and send the webhooks they cause."""
    events: dict[str, list[dict[str, Any]]] = {"responsible": [], "status": [], "update": []}
    with account.lock:
        for lead, item in changes:
            old_owner, old_stage, old_pipeline = lead.responsible_user_id, lead.status_id, lead.pipeline_id
            for key in ("name", "price", "responsible_user_id", "status_id", "pipeline_id", "loss_reason_id"):
                if key in item:
                    setattr(lead, key, item[key])
            for value in item.get("custom_fields_values") or []:
                definition = account.fields["leads"][value["field_id"]]
                lead.fields[definition.id] = [
                    {"value": definition.enums.get(v["enum_id"]), "enum_id": v["enum_id"]}
                    if "enum_id" in v
                    else {"value": v.get("value")}
                    for v in value.get("values") or []
                ]
            lead.tags += [t["name"] for t in item.get("tags_to_add") or [] if t.get("name") not in lead.tags]
            lead.updated_at = max(account.now(), lead.updated_at)
            lead.updated_by = int(item.get("updated_by", user_id))
            if lead.responsible_user_id != old_owner:
                events["responsible"].append(hook_lead(account, lead, responsible_user_id=old_owner))
            if (lead.status_id, lead.pipeline_id) != (old_stage, old_pipeline):
                # won (142) and lost (143) close the lead; any other stage opens it again (§2.2, §2.8)
                lead.closed_at = lead.updated_at if lead.status_id in (WON, LOST) else None
                if lead.status_id != LOST:  # a reason belongs to a lost lead only (§4 [S])
                    lead.loss_reason_id = None
                old = {"status_id": old_stage} | (
                    {"pipeline_id": old_pipeline} if lead.pipeline_id != old_pipeline else {}
                )
                events["status"].append(hook_lead(account, lead, **old))
            events["update"].append(hook_lead(account, lead))
    for action in ("responsible", "status", "update"):
        if events[action]:
            hooks.emit(action, events[action])


def create_lead(account: Account, hooks: HookSender | None, **fields: Any) -> Lead:
    """A new lead (a web form, a person, an import) and its `add_lead` webhook."""
    with account.lock:
        pipeline_id = fields.pop("pipeline_id", next(iter(account.pipelines)))
        stages = account.pipelines[pipeline_id][1]
        first = next(s for s, (_, kind) in stages.items() if kind == 0)
        now = account.now()
        lead = Lead(
            id=account.new_id("lead"),
            name=fields.pop("name", "Заявка с сайта"),
            status_id=fields.pop("status_id", first),
            pipeline_id=pipeline_id,
            responsible_user_id=fields.pop("responsible_user_id", min(account.users)),
            created_at=fields.pop("created_at", now),
            updated_at=fields.pop("updated_at", now),
            **fields,
        )
        if lead.status_id in (WON, LOST) and lead.closed_at is None:
            lead.closed_at = lead.created_at
        account.leads[lead.id] = lead
        payload = hook_lead(account, lead)
    if hooks is not None:
        hooks.emit("add", [payload])
    return lead
