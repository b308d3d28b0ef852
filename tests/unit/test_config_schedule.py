"""Schedules in the config become weekly minute intervals, Monday first."""

from __future__ import annotations

import pytest

from core.model import ALWAYS, WeeklySchedule
from core.texts import texts
from webhook_app.config.pools import integer_weights, letter_range
from webhook_app.config.problems import LineIndex, Reporter
from webhook_app.config.schedule import parse_schedule
from webhook_app.config.schema import ManagerModel

ENGLISH = texts("en", "config")  # the wording these tests quote; Russian: test_config_in_russian.py


def parse(raw: dict[str, str]) -> tuple[WeeklySchedule, list[str]]:
    report = Reporter("cfg.yaml", LineIndex(), "en")
    schedule = parse_schedule(raw, ("schedule",), report)
    return schedule, [str(p) for p in report.problems]


def test_a_weekday_range_sets_each_day_and_leaves_the_rest_off():
    schedule, problems = parse({"mon-fri": "09:00-18:00"})
    assert problems == []
    assert schedule.days == (((540, 1080),),) * 5 + ((), ())


def test_a_night_shift_splits_across_midnight_into_the_next_weekday():
    schedule, _ = parse({"sun": "22:00-06:00", "mon": "09:00-12:00"})
    assert schedule.intervals(6) == ((1320, 1440),)
    assert schedule.intervals(0) == ((0, 360), (540, 720))


def test_several_intervals_a_day_list_of_days_and_off():
    schedule, problems = parse({"mon,wed": "09:00-13:00, 14:00-18:00", "fri": "off"})
    assert problems == []
    assert schedule.intervals(0) == ((540, 780), (840, 1080)) == schedule.intervals(2)
    assert schedule.intervals(1) == () == schedule.intervals(4)


def test_a_day_range_may_wrap_over_the_weekend_and_end_at_midnight():
    schedule, _ = parse({"sat-mon": "20:00-24:00"})
    assert [d for d in range(7) if schedule.intervals(d)] == [0, 5, 6]
    assert schedule.intervals(5) == ((1200, 1440),)


def test_a_day_set_twice_is_an_error():
    _, problems = parse({"mon-fri": "09:00-18:00", "fri": "09:00-16:00"})
    assert problems == ["cfg.yaml: schedule.fri: fri is already set by 'mon-fri'"]


@pytest.mark.parametrize("value", ["9-18", "09:00", "25:00-26:00", "09:60-10:00"])
def test_malformed_hours_are_errors(value):
    _, problems = parse({"mon": value})
    assert len(problems) == 1 and f"'{value}'" in problems[0]


def test_always_and_yaml_off_are_understood_by_the_schema():
    always = ManagerModel.model_validate({"crm_user_id": 1, "schedule": "always"})
    assert always.schedule == {"mon-sun": "00:00-24:00"}
    off = ManagerModel.model_validate({"crm_user_id": 1, "schedule": {"sat": False}})  # YAML's bare `off`
    assert off.schedule == {"sat": "off"}
    schedule, _ = parse({"mon-sun": "00:00-24:00"})
    assert schedule == ALWAYS


def test_weights_one_and_a_half_convert_to_two_and_one():
    assert integer_weights({"ivanova": 1, "petrov": 0.5}) == {"ivanova": 2, "petrov": 1}
    assert integer_weights({"a": 1.5, "b": 0.75, "c": 3}) == {"a": 2, "b": 1, "c": 4}
    assert integer_weights({"a": 2, "b": 2}) == {"a": 1, "b": 1}
    assert integer_weights({}) == {}


def test_letter_ranges_are_upper_cased_with_yo_as_ye():
    assert letter_range("а-к", ENGLISH) == ("А", "К")
    assert letter_range("Ё", ENGLISH) == ("Е", "Е")
    assert letter_range("K-A", ENGLISH) == "'K-A' runs backwards"
    assert letter_range("А-Z", ENGLISH) == "'А-Z' must use letters of one alphabet (Cyrillic or Latin)"
