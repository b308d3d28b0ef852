from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.availability import SkipReason, next_shift_start, unavailability
from core.model import Absence
from core.state import ManagerLoad, Pause, RoutingState
from tests.builders import MSK, NOON, manager, weekdays

EMPTY = RoutingState()


def test_a_manager_on_shift_is_available():
    assert unavailability(manager("a", schedule=weekdays()), NOON, EMPTY) is None


def test_off_hours_names_the_next_shift_start():
    evening = NOON.replace(hour=19)
    skip = unavailability(manager("a", schedule=weekdays()), evening, EMPTY)
    assert skip is not None and skip.reason is SkipReason.OFF_HOURS
    assert skip.until == datetime(2026, 12, 3, 9, 0, tzinfo=MSK)


def test_friday_evening_waits_until_monday_morning():
    friday = datetime(2026, 12, 4, 18, 30, tzinfo=MSK)
    skip = unavailability(manager("a", schedule=weekdays()), friday, EMPTY)
    assert skip is not None and skip.until == datetime(2026, 12, 7, 9, 0, tzinfo=MSK)


def test_schedules_follow_the_managers_own_time_zone():
    vladivostok = ZoneInfo("Asia/Vladivostok")  # UTC+10, Moscow is UTC+3
    far_east = manager("v", tz=vladivostok, schedule=weekdays())
    # 12:00 in Moscow is 19:00 in Vladivostok: off hours there.
    skip = unavailability(far_east, NOON, EMPTY)
    assert skip is not None and skip.reason is SkipReason.OFF_HOURS
    assert skip.until == datetime(2026, 12, 3, 9, 0, tzinfo=vladivostok)
    # 04:00 in Moscow is 11:00 in Vladivostok: working.
    assert unavailability(far_east, NOON.replace(hour=4), EMPTY) is None


def test_holidays_make_a_manager_unavailable_all_day():
    m = manager("a", schedule=weekdays(), holidays=frozenset({date(2026, 12, 2)}))
    skip = unavailability(m, NOON, EMPTY)
    assert skip is not None and skip.reason is SkipReason.HOLIDAY
    assert skip.until == datetime(2026, 12, 3, 9, 0, tzinfo=MSK)


def test_absence_names_the_substitute_and_the_first_working_moment_after_it():
    away = Absence(date(2026, 12, 1), date(2026, 12, 4), substitute="b")
    m = manager("a", schedule=weekdays(), absences=(away,))
    skip = unavailability(m, NOON, EMPTY)
    assert skip is not None and skip.reason is SkipReason.ABSENT and skip.substitute == "b"
    assert skip.until == datetime(2026, 12, 7, 9, 0, tzinfo=MSK)  # Friday the 4th ends it; Monday


def test_absence_dates_are_inclusive():
    away = Absence(date(2026, 12, 2), date(2026, 12, 2))
    m = manager("a", absences=(away,))
    assert unavailability(m, NOON, EMPTY) is not None
    assert unavailability(m, NOON + timedelta(days=1), EMPTY) is None
    assert unavailability(m, NOON - timedelta(days=1), EMPTY) is None


def test_pause_holds_until_its_end():
    state = RoutingState(paused={"a": Pause(until=NOON + timedelta(hours=1), reason="обучение")})
    skip = unavailability(manager("a"), NOON, state)
    assert skip is not None and skip.reason is SkipReason.PAUSED
    assert unavailability(manager("a"), NOON + timedelta(hours=2), state) is None


def test_deactivated_managers_are_never_available():
    assert unavailability(manager("a", active=False), NOON, EMPTY).reason is SkipReason.INACTIVE  # type: ignore[union-attr]
    state = RoutingState(inactive=frozenset({"a"}))
    assert unavailability(manager("a"), NOON, state).reason is SkipReason.INACTIVE  # type: ignore[union-attr]


def test_daily_cap_counts_only_todays_leads_in_the_managers_zone():
    m = manager("a", max_per_day=2)
    today = NOON.date()
    capped = RoutingState(loads={"a": ManagerLoad(day=today, today=2)})
    skip = unavailability(m, NOON, capped)
    assert skip is not None and skip.reason is SkipReason.CAPPED_DAY
    assert (skip.count, skip.limit) == (2, 2)
    yesterday = RoutingState(loads={"a": ManagerLoad(day=today - timedelta(days=1), today=5)})
    assert unavailability(m, NOON, yesterday) is None


def test_open_leads_cap():
    m = manager("a", max_open=3)
    skip = unavailability(m, NOON, RoutingState(loads={"a": ManagerLoad(open=3)}))
    assert skip is not None and skip.reason is SkipReason.CAPPED_OPEN
    assert unavailability(m, NOON, RoutingState(loads={"a": ManagerLoad(open=2)})) is None


def test_next_shift_start_is_now_when_on_shift():
    assert next_shift_start(manager("a", schedule=weekdays()), NOON) == NOON


def test_next_shift_start_is_none_without_any_working_time():
    from core.model import WeeklySchedule

    never = WeeklySchedule(days=((),) * 7)
    assert next_shift_start(manager("a", schedule=never), NOON) is None
