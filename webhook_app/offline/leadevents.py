"""Event rows of a lead file: what happened to an earlier lead, and until when the file knows.

A row's `event` is `created` (the default: an empty cell or no `event` column at all) for a new
lead, or one of:

- `stage`: a move. `id` names the lead, `at` the moment, `stage` the stage it entered, `pipeline`
  the pipeline when the move changes it (else the lead's own), and `closed` (`won` / `lost`) when
  the move closes the deal;
- `owner`: a person made someone else responsible. `id`, `at`, and `owner`: a manager key from
  the config or a numeric CRM user id;
- `until`: nothing else happened until `at` (the moment of the export): timers due by then ring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from core.model import UserId
from webhook_app.offline.leadrow import Record, parse_time

CREATED, STAGE, OWNER, UNTIL = "created", "stage", "owner", "until"
EVENT_KINDS = (CREATED, STAGE, OWNER, UNTIL)
CLOSED = ("won", "lost")
_AT = {
    STAGE: "a stage row needs `at`: when the lead entered the stage",
    OWNER: "an owner row needs `at`: when the responsible changed",
    UNTIL: "an until row needs `at`: the moment up to which the file tells everything",
}


@dataclass(frozen=True, slots=True)
class StageEvent:
    """A lead of the file entered `stage` (in `pipeline`, or its current one) at `at`."""

    lead_id: str
    at: datetime
    stage: str
    pipeline: str | None
    line: int  # the row's line, for messages about it
    closed: str | None = None  # "won" / "lost": the move closes the deal


@dataclass(frozen=True, slots=True)
class OwnerEvent:
    """A person made `user` responsible for a lead of the file at `at`."""

    lead_id: str
    at: datetime
    user: UserId
    line: int


@dataclass(frozen=True, slots=True)
class UntilEvent:
    """Nothing else happened until `at`: the file's history is complete up to then."""

    at: datetime
    line: int


Event = StageEvent | OwnerEvent | UntilEvent


def event_kind(value: object) -> str:
    """One of EVENT_KINDS from an `event` cell (empty means `created`); ValueError otherwise."""
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return CREATED
    if text in EVENT_KINDS:
        return text
    raise ValueError(f"event {str(value).strip()!r} is not one of: {', '.join(EVENT_KINDS)}")


def event_time(kind: str, value: object, tz: tzinfo) -> datetime:
    """The `at` of an event row, with messages that name `at`."""
    if value is None or not str(value).strip():
        raise ValueError(_AT[kind])
    try:
        return parse_time(value, tz)
    except ValueError:
        raise ValueError(f"at {str(value).strip()!r} is not a date and time (expected ISO 8601)") from None


def event_row(kind: str, record: Record, line: int, tz: tzinfo, owner: Callable[[object], UserId]) -> Event:
    """The event of one `stage`, `owner` or `until` record; ValueError naming what is wrong.

    `owner` reads a manager key or a CRM user id (the file's `owner` column)."""
    at = event_time(kind, record.get("at"), tz)
    if kind == UNTIL:
        return UntilEvent(at, line)
    lead_id = record.get("id")
    if not lead_id:
        raise ValueError(f"{'a stage' if kind == STAGE else 'an owner'} row needs the `id` of its lead")
    if kind == OWNER:
        value = record.get("owner")
        if not value:
            raise ValueError("an owner row needs the `owner`: who became responsible")
        return OwnerEvent(str(lead_id), at, owner(value), line)
    stage = record.get("stage")
    if not stage:
        raise ValueError("a stage row needs the `stage` the lead entered")
    closed = record.get("closed")
    if closed is not None:
        closed = str(closed).strip().lower()
        if closed not in CLOSED:
            raise ValueError(f"closed {record['closed']!r} is not one of: {', '.join(CLOSED)}")
    return StageEvent(str(lead_id), at, str(stage), record.get("pipeline"), line, closed)
