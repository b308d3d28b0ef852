"""Stage rows of a lead file: `event: stage` says that an earlier lead entered a stage at a moment.

A row's `event` is `created` (the default: an empty cell or no `event` column at all) for a new
lead, or `stage` for a move: `id` names the lead, `at` the moment, `stage` the stage it entered,
and `pipeline` the pipeline when the move changes it (else the lead's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from webhook_app.offline.leadrow import Record, parse_time

CREATED, STAGE = "created", "stage"
EVENT_KINDS = (CREATED, STAGE)


@dataclass(frozen=True, slots=True)
class StageEvent:
    """A lead of the file entered `stage` (in `pipeline`, or its current one) at `at`."""

    lead_id: str
    at: datetime
    stage: str
    pipeline: str | None
    line: int  # the row's line, for messages about it


def event_kind(value: object) -> str:
    """`created` or `stage` from an `event` cell (empty means `created`); ValueError otherwise."""
    text = "" if value is None else str(value).strip().lower()
    if not text or text == CREATED:
        return CREATED
    if text == STAGE:
        return STAGE
    raise ValueError(f"event {str(value).strip()!r} is not one of: {', '.join(EVENT_KINDS)}")


def is_stage(record: Record) -> bool:
    """True for a record of a `stage` row (its `event` is checked)."""
    value = record.get("event")
    return value is not None and event_kind(value) == STAGE


def stage_time(value: object, tz: tzinfo) -> datetime:
    """The `at` of a stage row, with messages that name `at`."""
    if value is None or not str(value).strip():
        raise ValueError("a stage row needs `at`: when the lead entered the stage")
    try:
        return parse_time(value, tz)
    except ValueError:
        raise ValueError(f"at {str(value).strip()!r} is not a date and time (expected ISO 8601)") from None


def stage_event(record: Record, line: int, tz: tzinfo) -> StageEvent:
    """The StageEvent of one `stage` record; ValueError naming what is missing or wrong."""
    lead_id, stage = record.get("id"), record.get("stage")
    if not lead_id:
        raise ValueError("a stage row needs the `id` of its lead")
    if not stage:
        raise ValueError("a stage row needs the `stage` the lead entered")
    return StageEvent(
        str(lead_id), stage_time(record.get("at"), tz), str(stage), record.get("pipeline"), line
    )
