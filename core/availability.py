"""Whether a manager can take a lead right now, and if not, why and until when.

The shift arithmetic and the `Skip` record live in `core.shifts` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from core.shifts import (
    SEARCH_DAYS,
    Skip,
    SkipReason,
    absence_on,
    minute_of,
    next_local_midnight,
    next_shift_start,
    on_shift,
)
from core.values import quick_init

if TYPE_CHECKING:  # the model imports this module for the shift calendar
    from core.model import Manager, ManagerKey
    from core.state import RoutingState

__all__ = [
    "SEARCH_DAYS",
    "ShiftCalendar",
    "Skip",
    "SkipReason",
    "absence_on",
    "next_shift_start",
    "on_shift",
    "split_team",
    "unavailability",
]


@quick_init
@dataclass(frozen=True, slots=True)
class _Window:
    """A manager's time-based availability, unchanged from `start` until `end`.

    `tomorrow` is the first shift after this local day, for managers with a daily cap: a capped
    manager is asked it at every lead until midnight.
    """

    manager: Manager
    start: datetime
    end: datetime
    day: date
    skip: Skip | None
    tomorrow: datetime | None = None


class ShiftCalendar:
    """Memo of each manager's time-based availability until its next boundary.

    Working hours, holidays and absences only change at shift edges and midnights, while leads
    arrive far more often; remembering the current window makes a 50-person pool cheap to scan.
    Results are exactly those of a fresh computation: this is a cache, not state.
    """

    def __init__(self) -> None:
        self._windows: dict[ManagerKey, _Window] = {}
        # pool name → (its member keys, the managers mapping, from, until, the members' windows)
        self._teams: dict[str, tuple[object, object, datetime, datetime, tuple[_Window, ...]]] = {}

    def window(self, manager: Manager, now: datetime) -> _Window:
        """The window containing `now` for this manager."""
        window = self._windows.get(manager.key)
        if window is None or window.manager is not manager or not window.start <= now < window.end:
            window = _compute_window(manager, now)
            self._windows[manager.key] = window
        return window

    def team(
        self, name: str, keys: tuple[ManagerKey, ...], managers: Mapping[ManagerKey, Manager], now: datetime
    ) -> tuple[_Window, ...]:
        """The windows of a pool's members at `now`, remembered until the first of them ends.

        A policy's managers never change (it is a value), so the pool's keys and the mapping
        they were looked up in identify the team; comparing one interval per lead instead of one
        per member is the point.
        """
        team = self._teams.get(name)
        if team is not None and team[0] is keys and team[1] is managers and team[2] <= now < team[3]:
            return team[4]
        windows = tuple(self.window(managers[key], now) for key in keys)
        start = max((w.start for w in windows), default=now)
        end = min((w.end for w in windows), default=now)
        self._teams[name] = (keys, managers, start, end, windows)
        return windows


def _compute_window(manager: Manager, now: datetime) -> _Window:
    window = _time_window(manager, now)
    if manager.max_per_day is None:
        return window
    tomorrow = next_shift_start(manager, next_local_midnight(manager, window.day))
    return _Window(manager, window.start, window.end, window.day, window.skip, tomorrow)


def _time_window(manager: Manager, now: datetime) -> _Window:
    local = now.astimezone(manager.tz)
    day = local.date()
    midnight = next_local_midnight(manager, day)
    absence = absence_on(manager, day)
    if absence is not None:
        until = next_shift_start(manager, next_local_midnight(manager, absence.end))
        skip = Skip(manager.key, SkipReason.ABSENT, until=until, substitute=absence.substitute)
        return _Window(manager, now, midnight, day, skip)
    if day in manager.holidays:
        skip = Skip(manager.key, SkipReason.HOLIDAY, until=next_shift_start(manager, now))
        return _Window(manager, now, midnight, day, skip)
    minute = minute_of(local)
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
    # Called for every pool member of every lead: the calendar's hit path is inlined here.
    calendar = calendar or ShiftCalendar()
    window = calendar._windows.get(key)
    if window is None or window.manager is not manager or not window.start <= now < window.end:
        window = calendar.window(manager, now)
    if window.skip is not None:
        return window.skip
    if manager.max_per_day is None and manager.max_open is None:
        return None
    return _capped(manager, window, state)


def split_team(
    windows: Sequence[_Window], now: datetime, state: RoutingState, exclude: Container[ManagerKey] = ()
) -> tuple[list[Manager], list[int], list[ManagerKey], list[Skip]]:
    """A pool's available members with their positions and keys, and the skipped ones with the reason.

    Exactly `unavailability` (after `exclude`: ALREADY_HAD) for each member's current window,
    spelled out over locals in one loop: this runs for every member of the pool of every lead.
    """
    eligible: list[Manager] = []
    positions: list[int] = []
    keys: list[ManagerKey] = []
    skipped: list[Skip] = []
    inactive, paused = state.inactive, state.paused
    for position, window in enumerate(windows):
        manager = window.manager
        key = manager.key
        if key in exclude:
            skipped.append(Skip(key, SkipReason.ALREADY_HAD))
        elif not manager.active or key in inactive:
            skipped.append(Skip(key, SkipReason.INACTIVE))
        elif paused and (pause := paused.get(key)) is not None and pause.active_at(now):
            skipped.append(Skip(key, SkipReason.PAUSED, until=pause.until))
        else:
            skip = window.skip
            if skip is None and (manager.max_per_day is not None or manager.max_open is not None):
                skip = _capped(manager, window, state)
            if skip is None:
                eligible.append(manager)
                positions.append(position)
                keys.append(key)
            else:
                skipped.append(skip)
    return eligible, positions, keys, skipped


def _capped(manager: Manager, window: _Window, state: RoutingState) -> Skip | None:
    load = state.load(manager.key)
    today = load.count_on(window.day)
    if manager.max_per_day is not None and today >= manager.max_per_day:
        until = window.tomorrow  # next_shift_start(manager, the next local midnight), computed once
        return Skip(manager.key, SkipReason.CAPPED_DAY, until, count=today, limit=manager.max_per_day)
    if manager.max_open is not None and load.open >= manager.max_open:
        return Skip(manager.key, SkipReason.CAPPED_OPEN, count=load.open, limit=manager.max_open)
    return None
