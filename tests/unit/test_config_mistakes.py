"""Issue 18: mistakes a head of sales really makes, each refused with what to write instead.

Every message is in the config's `language` (Russian by default) and names the file, line and field.
"""

from __future__ import annotations

import textwrap

import pytest

from webhook_app.config import ConfigError, load_config

BASE = """\
{language}crm: {{type: amocrm, base_url: https://example.amocrm.ru}}
managers:
  ivanova: {{crm_user_id: 1, {ivanova}}}
  petrov: {{crm_user_id: 2}}
pools:
  regions: {{members: [ivanova, petrov], strategy: {strategy}}}
rules:
  - {{name: moscow, when: {{region: {region}}}, pool: regions}}
  - {{name: default, pool: regions}}
"""


def config(
    *,
    ivanova: str = "weight: 1",
    region: str = "[Москва, Московская область]",
    strategy: str = "weighted",
    language: str = "",
) -> str:
    return BASE.format(ivanova=ivanova, region=region, strategy=strategy, language=language)


@pytest.fixture
def errors(tmp_path, monkeypatch):
    """Load a config written as cfg.yaml and return its problems as printed lines."""
    monkeypatch.chdir(tmp_path)

    def run(text: str) -> list[str]:
        (tmp_path / "cfg.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config("cfg.yaml")
        return [str(p) for p in caught.value.problems]

    return run


def test_the_base_config_is_valid(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg.yaml").write_text(config(), encoding="utf-8")
    assert load_config("cfg.yaml").policy.rules[0].name == "moscow"


def test_regions_written_as_one_string_are_refused_with_the_list_to_write(errors):
    assert errors(config(region='"Москва, Московская область"')) == [
        "cfg.yaml:8: rules[0].when.region: «Москва, Московская область» — одна строка с запятой, поэтому "
        "совпадёт только с таким же текстом целиком; чтобы перечислить значения, напишите список: "
        "[Москва, Московская область]"
    ]


def test_a_sticky_territory_written_as_one_string_is_refused_too(errors):
    text = config(strategy='sticky, sticky: {key: region, values: {ivanova: "Москва, Московская область"}}')
    assert errors(text) == [
        "cfg.yaml:6: pools.regions.sticky.values.ivanova: «Москва, Московская область» — одна строка с "
        "запятой, поэтому совпадёт только с таким же текстом целиком; чтобы перечислить значения, "
        "напишите список: [Москва, Московская область]"
    ]


def test_a_lunch_break_written_as_an_overlapping_interval_is_refused_with_the_fix(errors):
    assert errors(config(ivanova='schedule: {mon-fri: "09:00-18:00, 13:00-14:00"}')) == [
        "cfg.yaml:3: managers.ivanova.schedule.mon-fri: интервал «13:00-14:00» лежит внутри «09:00-18:00» "
        'и ничего не меняет; чтобы задать обед, напишите "09:00-13:00, 14:00-18:00"'
    ]


def test_partly_overlapping_intervals_are_refused_and_touching_ones_are_fine(errors, tmp_path):
    assert errors(config(ivanova='schedule: {mon-fri: "09:00-14:00, 13:00-18:00"}')) == [
        "cfg.yaml:3: managers.ivanova.schedule.mon-fri: интервалы «09:00-14:00» и «13:00-18:00» "
        'пересекаются; напишите "09:00-18:00"'
    ]
    (tmp_path / "cfg.yaml").write_text(config(ivanova='schedule: {mon-fri: "09:00-13:00, 14:00-18:00"}'))
    lunch = load_config("cfg.yaml").policy.managers["ivanova"].schedule.days[0]
    assert lunch == ((9 * 60, 13 * 60), (14 * 60, 18 * 60))


def test_a_decimal_comma_gives_one_clear_line(errors):
    assert errors(config(ivanova="weight: 0,5")) == [
        "cfg.yaml:3: managers.ivanova.weight: 0,5 с запятой YAML читает как два значения (0 и ключ 5); "
        "дробное число пишется с точкой: weight: 0.5"
    ]


def test_an_unquoted_time_is_recognised_as_yaml_base_60_and_the_quoted_interval_given(errors):
    assert errors(config(ivanova='schedule: {mon-fri: "09:00-18:00", sat: 10:00}')) == [
        "cfg.yaml:3: managers.ivanova.schedule.sat: 10:00 без кавычек YAML читает как число 600; часы "
        'пишутся интервалом в кавычках, например sat: "10:00-16:00"'
    ]


def test_a_date_written_day_first_is_refused_with_the_iso_date(errors):
    text = config(ivanova="absences: [{from: 01.12.2026, to: 2026-12-14}]")
    assert errors(text) == [
        "cfg.yaml:3: managers.ivanova.absences[0].from: «01.12.2026» — не дата: пишите год-месяц-день, "
        "2026-12-01"
    ]


def test_the_advice_follows_the_configs_language(errors):
    assert errors(config(ivanova="weight: 0,5", language="language: en\n")) == [
        "cfg.yaml:4: managers.ivanova.weight: 0,5 with a comma is read by YAML as two values (0 and a "
        "key 5); a fraction is written with a dot: weight: 0.5"
    ]
    assert errors(config(ivanova="holidays: [31.12.2026]", language="language: en\n")) == [
        "cfg.yaml:4: managers.ivanova.holidays[0]: “31.12.2026” is not a date: write year-month-day, "
        "2026-12-31"
    ]
