"""Shifts and reasons: when a manager works next, and the record of why one was passed over.

The time arithmetic under `core.availability`, which re-exports all of it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from core.values import quick_init

if TYPE_CHECKING:  # the model imports this module (through availability) for the shift calendar
    from core.model import Absence, Manager, ManagerKey

SEARCH_DAYS = 62  # how far ahead we look for a next shift: two months covers any vacation


class SkipReason(enum.Enum):
    """Why a candidate was passed over."""

    INACTIVE = "inactive"
    PAUSED = "paused"
    ABSENT = "absent"
    HOLIDAY = "holiday"
    OFF_HOURS = "off_hours"
    CAPPED_DAY = "capped_day"
    CAPPED_OPEN = "capped_open"
    ALREADY_HAD = "already_had"


@quick_init
@dataclass(frozen=True, slots=True)
class Skip:
    """A candidate passed over, with the reason and its parameters."""

    manager: ManagerKey
    reason: SkipReason
    until: datetime | None = None
    substitute: ManagerKey | None = None
    count: int | None = None
    limit: int | None = None


def absence_on(manager: Manager, day: date) -> Absence | None:
    """The absence covering a local date, if any."""
    for absence in manager.absences:
        if absence.covers(day):
            return absence
    return None


def minute_of(local: datetime) -> int:
    """Minutes since local midnight."""
    return local.hour * 60 + local.minute


def on_shift(manager: Manager, local: datetime) -> bool:
    """True when the local moment falls inside one of the day's working intervals."""
    minute = minute_of(local)
    return any(a <= minute < b for a, b in manager.schedule.intervals(local.weekday()))


def next_shift_start(manager: Manager, now: datetime) -> datetime | None:
    """The first moment at or after `now` when the manager is on shift, not absent, not on holiday."""
    local = now.astimezone(manager.tz)
    today = local.date()
    for offset in range(SEARCH_DAYS):
        day = today + timedelta(days=offset)
        if day in manager.holidays or absence_on(manager, day) is not None:
            continue
        floor = minute_of(local) if offset == 0 else 0
        for start, end in manager.schedule.intervals(day.weekday()):
            if end > floor:
                minute = max(start, floor)
                if offset == 0 and minute == floor:
                    return now
                moment = datetime.combine(day, time(minute // 60, minute % 60), manager.tz)
                return moment
    return None


def next_local_midnight(manager: Manager, day: date) -> datetime:
    """The midnight that ends a local day, in the manager's time zone."""
    return datetime.combine(day + timedelta(days=1), time(0), manager.tz)
