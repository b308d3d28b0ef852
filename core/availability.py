"""Whether a manager can take a lead right now, and if not, why and until when."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model imports this module for the shift calendar
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


@dataclass(frozen=True, slots=True)
class _Window:
    """A manager's time-based availability, unchanged from `start` until `end`."""

    manager: Manager
    start: datetime
    end: datetime
    day: date
    skip: Skip | None


class ShiftCalendar:
    """Memo of each manager's time-based availability until its next boundary.

    Working hours, holidays and absences only change at shift edges and midnights, while leads
    arrive far more often; remembering the current window makes a 50-person pool cheap to scan.
    Results are exactly those of a fresh computation: this is a cache, not state.
    """

    def __init__(self) -> None:
        self._windows: dict[ManagerKey, _Window] = {}

    def window(self, manager: Manager, now: datetime) -> _Window:
        """The window containing `now` for this manager."""
        window = self._windows.get(manager.key)
        if window is None or window.manager is not manager or not window.start <= now < window.end:
            window = _compute_window(manager, now)
            self._windows[manager.key] = window
        return window


def _compute_window(manager: Manager, now: datetime) -> _Window:
    local = now.astimezone(manager.tz)
    day = local.date()
    midnight = _next_local_midnight(manager, day)
    absence = absence_on(manager, day)
    if absence is not None:
        until = next_shift_start(manager, _next_local_midnight(manager, absence.end))
        skip = Skip(manager.key, SkipReason.ABSENT, until=until, substitute=absence.substitute)
        return _Window(manager, now, midnight, day, skip)
    if day in manager.holidays:
        skip = Skip(manager.key, SkipReason.HOLIDAY, until=next_shift_start(manager, now))
        return _Window(manager, now, midnight, day, skip)
    minute = _minute(local)
    for start, end in manager.schedule.intervals(local.weekday()):
        if start <= minute < end:
            closes = (
                midnight if end >= 24 * 60 else datetime.combine(day, time(end // 60, end % 60), manager.tz)
            )
            return _Window(manager, now, min(closes, midnight), day, None)
    until = next_shift_start(manager, now)
    skip = Skip(manager.key, SkipReason.OFF_HOURS, until=until)
    return _Window(manager, now, min(until, midnight) if until else midnight, day, skip)


def unavailability(
    manager: Manager, now: datetime, state: RoutingState, calendar: ShiftCalendar | None = None
) -> Skip | None:
    """None when the manager can take a lead now; otherwise the reason they cannot."""
    key = manager.key
    if not manager.active or key in state.inactive:
        return Skip(key, SkipReason.INACTIVE)
    pause = state.paused.get(key)
    if pause is not None and pause.active_at(now):
        return Skip(key, SkipReason.PAUSED, until=pause.until)
    window = (calendar or ShiftCalendar()).window(manager, now)
    if window.skip is not None:
        return window.skip
    return _capped(manager, window.day, state)


def _capped(manager: Manager, day: date, state: RoutingState) -> Skip | None:
    load = state.load(manager.key)
    today = load.count_on(day)
    if manager.max_per_day is not None and today >= manager.max_per_day:
        until = next_shift_start(manager, _next_local_midnight(manager, day))
        return Skip(manager.key, SkipReason.CAPPED_DAY, until, count=today, limit=manager.max_per_day)
    if manager.max_open is not None and load.open >= manager.max_open:
        return Skip(manager.key, SkipReason.CAPPED_OPEN, count=load.open, limit=manager.max_open)
    return None
