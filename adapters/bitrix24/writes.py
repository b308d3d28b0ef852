"""Our CRM writes as Bitrix24 calls, and each call's outcome as a WriteResult.

- RESPONSIBLE: `crm.lead.update` / `crm.deal.update` with ASSIGNED_BY_ID and REGISTER_SONET_EVENT=Y
  ("a notification will also be sent to the person responsible", §2.2).
- TASK: `crm.activity.todo.add` (§2.6), not `tasks.task.add`: the to-do lives in the lead's own
  timeline (ownerTypeId/ownerId, no UF_CRM_TASK binding to get wrong), counts in the responsible's
  activity counter with a deadline and a ping, and needs only the `crm` scope the rest of our
  calls need — a task would add the `task` scope and a second place for managers to look.
- NOTE: `crm.timeline.comment.add` (§2.6), visible in the card.
- FIELD: an update of one UF_ field, found by id or label; list fields get their item id.
- CLIENT (the lead's contacts and company get its new holder): adapters/bitrix24/parties.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from adapters.bitrix24.batch import BatchOutcome
from adapters.bitrix24.catalog import FieldMeta
from adapters.bitrix24.mapping import OWNER_TYPE, split_id
from adapters.bitrix24.status import is_not_found
from adapters.errors import AuthError, Blocked, CrmError, PermanentCrmError, RateLimited
from core.ports import CrmWrite, WriteKind, WriteResult, WriteStatus

Call = tuple[str, dict[str, Any]]
TITLE_LIMIT = 250


def plan(
    writes: Sequence[CrmWrite], field_for: Callable[[str, str], FieldMeta | None], now: datetime
) -> tuple[dict[str, Call], dict[int, WriteResult]]:
    """Batch calls keyed `w<index>`, and results already known for writes we cannot send."""
    calls: dict[str, Call] = {}
    refused: dict[int, WriteResult] = {}
    for index, write in enumerate(writes):
        try:
            calls[f"w{index}"] = _call(write, field_for, now)
        except ValueError as exc:
            refused[index] = WriteResult(WriteStatus.PERMANENT, str(exc), detail={"code": "INVALID_WRITE"})
        except CrmError as exc:  # the field catalog could not be read: try again later
            refused[index] = result_of_error(exc)
    return calls, refused


def _call(write: CrmWrite, field_for: Callable[[str, str], FieldMeta | None], now: datetime) -> Call:
    entity, number = split_id(write.lead_id)
    if write.kind is WriteKind.RESPONSIBLE:
        if write.user_id is None:
            raise ValueError("responsible write without a user")
        fields = {"ASSIGNED_BY_ID": write.user_id}
        return f"crm.{entity}.update", {
            "id": number,
            "fields": fields,
            "params": {"REGISTER_SONET_EVENT": "Y"},
        }
    if write.kind is WriteKind.TASK:
        due = write.due or now + timedelta(minutes=15)
        title = (write.text.splitlines() or ["leadrouter"])[0][:TITLE_LIMIT]
        params = {
            "ownerTypeId": OWNER_TYPE[entity],
            "ownerId": number,
            "deadline": due.isoformat(timespec="seconds"),
            "title": title,
            "description": write.text,
            "responsibleId": write.user_id,
            "pingOffsets": [0],  # remind the new responsible when it is due
        }
        return "crm.activity.todo.add", params
    if write.kind is WriteKind.NOTE:
        comment = {"ENTITY_ID": number, "ENTITY_TYPE": entity, "COMMENT": write.text}
        return "crm.timeline.comment.add", {"fields": comment}
    return _field_call(entity, number, write, field_for)


def _field_call(
    entity: str, number: str, write: CrmWrite, field_for: Callable[[str, str], FieldMeta | None]
) -> Call:
    meta = field_for(entity, write.field_name or "")
    if meta is None:
        raise ValueError(f"no custom field {(write.field_name or '')[:60]!r} on Bitrix24 {entity}s")
    value: Any = write.field_value or ""
    if meta.items and value:
        item = next((i for i, shown in meta.items.items() if shown.casefold() == str(value).casefold()), None)
        if item is None:
            raise ValueError(f"{meta.id} has no list item {str(value)[:60]!r}")
        value = item
    # No activity-stream notification for a bookkeeping field.
    return f"crm.{entity}.update", {
        "id": number,
        "fields": {meta.id: value},
        "params": {"REGISTER_SONET_EVENT": "N"},
    }


def results(count: int, outcome: BatchOutcome, refused: dict[int, WriteResult]) -> list[WriteResult]:
    """One result per write, in order."""
    out = []
    for index in range(count):
        key = f"w{index}"
        if index in refused:
            out.append(refused[index])
        elif key in outcome.errors and is_not_found(outcome.errors[key]):
            # "Not found" / OWNER_NOT_FOUND of a write on the lead itself: it is deleted (§2.2, §2.6)
            error = outcome.errors[key]
            out.append(WriteResult(WriteStatus.GONE, str(error), detail={"code": "NOT_FOUND"}))
        elif key in outcome.errors:
            out.append(result_of_error(outcome.errors[key]))
        else:
            out.append(WriteResult(WriteStatus.OK, detail=_created(outcome.results.get(key))))
    return out


def result_of_error(error: CrmError) -> WriteResult:
    """PERMANENT for a refusal (with Bitrix24's code), TRANSIENT for limits, faults and credentials."""
    if isinstance(error, PermanentCrmError):
        return WriteResult(WriteStatus.PERMANENT, str(error), detail={"code": error.detail})
    retry_after = error.retry_after if isinstance(error, RateLimited | Blocked) else None
    # Credentials are the operator's to fix (a new webhook URL, a re-install): keep the writes
    # pending and retried with backoff rather than dead-letter every one of them at once.
    code = "AUTH" if isinstance(error, AuthError) else "LIMIT" if retry_after else "TRANSIENT"
    return WriteResult(WriteStatus.TRANSIENT, str(error), retry_after=retry_after, detail={"code": code})


def _created(result: Any) -> dict[str, str]:
    """The id Bitrix24 gave a new activity or comment, for the audit log."""
    if isinstance(result, dict) and result.get("id") is not None:
        return {"crm_id": str(result["id"])}
    if isinstance(result, int | str) and not isinstance(result, bool):
        return {"crm_id": str(result)}
    return {}
