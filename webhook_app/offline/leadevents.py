"""Event rows of a lead file: what happened to an earlier lead, and until when the file knows.

A row's `event` is `created` (the default: an empty cell or no `event` column at all) for a new
lead, or one of:

- `stage`: a move. `id` names the lead, `at` the moment, `stage` the stage it entered, `pipeline`
  the pipeline when the move changes it (else the lead's own), `closed` (`won` / `lost`) when
  the move closes the deal, and `loss_reason` why a lost one was lost (for `junk: {loss_reason}`);
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
from webhook_app.offline.rowproblem import RowProblem

CREATED, STAGE, OWNER, UNTIL = "created", "stage", "owner", "until"
EVENT_KINDS = (CREATED, STAGE, OWNER, UNTIL)
CLOSED = ("won", "lost")
_AT = {STAGE: "stage_at_missing", OWNER: "owner_at_missing", UNTIL: "until_at_missing"}


@dataclass(frozen=True, slots=True)
class StageEvent:
    """A lead of the file entered `stage` (in `pipeline`, or its current one) at `at`."""

    lead_id: str
    at: datetime
    stage: str
    pipeline: str | None
    line: int  # the row's line, for messages about it
    closed: str | None = None  # "won" / "lost": the move closes the deal
    loss_reason: str | None = None  # why a lost deal was lost, as the CRM names it


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
    raise RowProblem("event_bad", value=str(value).strip(), kinds=", ".join(EVENT_KINDS))


def event_time(kind: str, value: object, tz: tzinfo) -> datetime:
    """The `at` of an event row, with messages that name `at`."""
    if value is None or not str(value).strip():
        raise RowProblem(_AT[kind])
    try:
        return parse_time(value, tz)
    except ValueError:
        raise RowProblem("at_bad", value=str(value).strip()) from None


def event_row(kind: str, record: Record, line: int, tz: tzinfo, owner: Callable[[object], UserId]) -> Event:
    """The event of one `stage`, `owner` or `until` record; ValueError naming what is wrong.

    `owner` reads a manager key or a CRM user id (the file's `owner` column)."""
    at = event_time(kind, record.get("at"), tz)
    if kind == UNTIL:
        return UntilEvent(at, line)
    lead_id = record.get("id")
    if not lead_id:
        raise RowProblem("stage_id_missing" if kind == STAGE else "owner_id_missing")
    if kind == OWNER:
        value = record.get("owner")
        if not value:
            raise RowProblem("owner_missing")
        return OwnerEvent(str(lead_id), at, owner(value), line)
    stage = record.get("stage")
    if not stage:
        raise RowProblem("stage_missing")
    closed = record.get("closed")
    if closed is not None:
        closed = str(closed).strip().lower()
        if closed not in CLOSED:
            raise RowProblem("closed_bad", value=record["closed"], kinds=", ".join(CLOSED))
    reason = str(record.get("loss_reason") or "").strip() or None
    return StageEvent(str(lead_id), at, str(stage), record.get("pipeline"), line, closed, reason)
