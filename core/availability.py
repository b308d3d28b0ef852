"""Whether a manager can take a lead right now, and if not, why and until when."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.model import Absence, Manager, ManagerKey
from core.state import RoutingState

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


def _minute(local: datetime) -> int:
    return local.hour * 60 + local.minute


def on_shift(manager: Manager, local: datetime) -> bool:
    """True when the local moment falls inside one of the day's working intervals."""
    minute = _minute(local)
    return any(a <= minute < b for a, b in manager.schedule.intervals(local.weekday()))


def next_shift_start(manager: Manager, now: datetime) -> datetime | None:
    """The first moment at or after `now` when the manager is on shift, not absent, not on holiday."""
    local = now.astimezone(manager.tz)
    today = local.date()
    for offset in range(SEARCH_DAYS):
        day = today + timedelta(days=offset)
        if day in manager.holidays or absence_on(manager, day) is not None:
            continue
        floor = _minute(local) if offset == 0 else 0
        for start, end in manager.schedule.intervals(day.weekday()):
            if end > floor:
                minute = max(start, floor)
                if offset == 0 and minute == floor:
                    return now
                moment = datetime.combine(day, time(minute // 60, minute % 60), manager.tz)
                return moment
    return None


def _next_local_midnight(manager: Manager, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), manager.tz)


def unavailability(manager: Manager, now: datetime, state: RoutingState) -> Skip | None:
    """None when the manager can take a lead now; otherwise the reason they cannot."""
    key = manager.key
    if not manager.active or key in state.inactive:
        return Skip(key, SkipReason.INACTIVE)
    pause = state.paused.get(key)
    if pause is not None and pause.active_at(now):
        return Skip(key, SkipReason.PAUSED, until=pause.until)
    local = now.astimezone(manager.tz)
    day = local.date()
    absence = absence_on(manager, day)
    if absence is not None:
        until = next_shift_start(manager, _next_local_midnight(manager, absence.end))
        return Skip(key, SkipReason.ABSENT, until=until, substitute=absence.substitute)
    if day in manager.holidays:
        return Skip(key, SkipReason.HOLIDAY, until=next_shift_start(manager, now))
    if not on_shift(manager, local):
        return Skip(key, SkipReason.OFF_HOURS, until=next_shift_start(manager, now))
    return _capped(manager, day, state)


def _capped(manager: Manager, day: date, state: RoutingState) -> Skip | None:
    load = state.load(manager.key)
    today = load.count_on(day)
    if manager.max_per_day is not None and today >= manager.max_per_day:
        until = next_shift_start(manager, _next_local_midnight(manager, day))
        return Skip(manager.key, SkipReason.CAPPED_DAY, until, count=today, limit=manager.max_per_day)
    if manager.max_open is not None and load.open >= manager.max_open:
        return Skip(manager.key, SkipReason.CAPPED_OPEN, count=load.open, limit=manager.max_open)
    return None
