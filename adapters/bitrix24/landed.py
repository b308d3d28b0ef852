"""Whether our to-dos already landed: `crm.activity.list` of each lead, for task writes tried before.

A to-do (`crm.activity.todo.add`, §2.6) is not idempotent: sent again after a crash that lost
Bitrix24's answer, the manager gets it twice. So before sending a task write again we list the
lead's activities (one batch command per lead, 50 per request) and look for ours: the same
responsible, description and deadline (to the second, in whatever time zone the portal answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.bitrix24.batch import run_batch
from adapters.bitrix24.mapping import OWNER_TYPE, split_id
from adapters.bitrix24.transport import Transport
from core.ports import CrmWrite

Key = tuple[str, str, str, int | None]  # owner "lead:12", responsible, text, deadline (epoch seconds)
SELECT = ["ID", "OWNER_TYPE_ID", "OWNER_ID", "RESPONSIBLE_ID", "DESCRIPTION", "DEADLINE"]


def landed(transport: Transport, writes: Sequence[CrmWrite], size: int) -> list[bool]:
    """For each task write: whether the lead's timeline holds a to-do like it. Raises the first
    error of the reads (the caller then sends nothing)."""
    owners = []
    for write in writes:
        try:
            split_id(write.lead_id)
            owners.append(write.lead_id)
        except ValueError:
            continue
    owners = list(dict.fromkeys(owners))
    calls = {f"a{n}": ("crm.activity.list", _params(owner)) for n, owner in enumerate(owners)}
    outcome = run_batch(transport, calls, size=size)
    held: set[Key] = set()
    for n, owner in enumerate(owners):
        error = outcome.errors.get(f"a{n}")
        if error is not None:
            raise error
        for activity in outcome.results.get(f"a{n}") or []:
            if isinstance(activity, dict):
                held.add(_held(owner, activity))
    return [_key(write) in held for write in writes]


def _params(owner: str) -> dict[str, Any]:
    entity, number = split_id(owner)
    # A lead has a few activities; more than a page (50) of them is rare, and ours is among the newest.
    filter_ = {"OWNER_TYPE_ID": OWNER_TYPE[entity], "OWNER_ID": number}
    return {"filter": filter_, "select": SELECT, "order": {"ID": "DESC"}}


def _held(owner: str, activity: dict[str, Any]) -> Key:
    return (
        owner,
        str(activity.get("RESPONSIBLE_ID") or ""),
        str(activity.get("DESCRIPTION") or ""),
        _epoch(activity.get("DEADLINE")),
    )


def _key(write: CrmWrite) -> Key:
    due = int(write.due.timestamp()) if write.due else None  # no deadline of ours: never matched
    return write.lead_id, str(write.user_id or ""), write.text, due


def _epoch(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(value)).timestamp()) if value else None
    except ValueError:
        return None
