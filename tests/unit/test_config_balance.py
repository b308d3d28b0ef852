"""`balance`, `value`, `tiers` and `junk` in the config: built into the pool, misuse named precisely."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from core.model import Lead
from core.worth import lead_value, tier_of
from tests.builders import NOON
from webhook_app.config import ConfigError, load_config

BASE = """\
crm: {type: amocrm, base_url: https://example.amocrm.ru}
head_of_sales: head
managers:
  ivanova: {crm_user_id: 1}
  petrov: {crm_user_id: 2}
  head: {crm_user_id: 3}
pools:
  regions: {members: [ivanova, petrov], strategy: weighted}
rules:
  - {name: default, pool: regions}
language: en
"""
POOL = "  regions: {members: [ivanova, petrov], strategy: weighted}\n"


def write(tmp_path, pool_text: str) -> str:
    path = tmp_path / "cfg.yaml"
    path.write_text(BASE.replace(POOL, textwrap.indent(textwrap.dedent(pool_text), "  ")), encoding="utf-8")
    return str(path)


def problems(tmp_path, monkeypatch, pool_text: str) -> list[str]:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, pool_text)
    with pytest.raises(ConfigError) as caught:
        load_config("cfg.yaml")
    return [str(p) for p in caught.value.problems]


def test_value_balance_by_price_field_and_points_is_built(tmp_path):
    loaded = load_config(
        write(
            tmp_path,
            """\
            regions:
              members: [ivanova, petrov]
              strategy: weighted
              balance: value
              value:
                tiers: [{when: {source: Сайт}, points: 5}, {when: {price: {gte: 100000}}, points: 3}]
                default: 1
            """,
        )
    )
    pool = loaded.policy.pools["regions"]
    assert pool.balance == "value" and pool.value.source == "points"
    assert lead_value(Lead("1", NOON, source="Сайт", price=10), pool.value) == 5
    assert lead_value(Lead("2", NOON, price=500_000), pool.value) == 3
    assert lead_value(Lead("3", NOON, price=10), pool.value) == 1


def test_a_value_field_reads_numbers_written_as_text(tmp_path):
    text = "regions: {members: [ivanova, petrov], balance: value, value: {field: Бюджет}}\n"
    pool = load_config(write(tmp_path, text)).policy.pools["regions"]
    assert pool.strategy == "round_robin" and pool.value.field == "Бюджет"
    assert lead_value(Lead("1", NOON, fields={"Бюджет": "150 000,50"}), pool.value) == 150_000.5
    assert lead_value(Lead("1", NOON, fields={"Бюджет": "договорная"}), pool.value) == 0


def test_tier_balance_and_junk_credit_are_built(tmp_path):
    text = """\
    regions:
      members: [ivanova, petrov]
      strategy: weighted
      balance: tiers
      tiers: [{name: big, when: {price: {gte: 100000}}}, {name: rest}]
      junk: {stage: Спам, within_hours: 12, max_per_week: 2}
    """
    pool = load_config(write(tmp_path, text)).policy.pools["regions"]
    assert [t.name for t in pool.tiers] == ["big", "rest"]
    assert tier_of(Lead("1", NOON, price=200_000), pool.tiers) == "big"
    assert tier_of(Lead("1", NOON), pool.tiers) == "rest"
    assert pool.junk is not None and pool.junk.stage.stage == "Спам"
    assert (pool.junk.within, pool.junk.max_per_week) == (timedelta(hours=12), 2)


def test_value_balance_on_a_sticky_pool_is_a_clear_error(tmp_path, monkeypatch):
    text = "regions: {members: [ivanova, petrov], strategy: sticky, balance: value}\n"
    assert problems(tmp_path, monkeypatch, text) == [
        "cfg.yaml:8: pools.regions.balance: balance: value only applies to weighted and round_robin pools"
        " (this pool is sticky, which does not share leads by count)"
    ]


def test_an_unknown_balance_lists_the_valid_ones(tmp_path, monkeypatch):
    text = "regions: {members: [ivanova, petrov], strategy: weighted, balance: money}\n"
    [problem] = problems(tmp_path, monkeypatch, text)
    assert problem.startswith("cfg.yaml:8: pools.regions.balance: ")
    assert "'count', 'value' or 'tiers'" in problem


def test_tier_mistakes_are_each_named_with_their_line(tmp_path, monkeypatch):
    text = """\
    regions:
      members: [ivanova, petrov]
      strategy: weighted
      balance: tiers
      tiers:
        - {name: rest}
        - {name: big, when: {price: {gte: 100000}}}
        - {name: big, when: {source: Сайт}}
    """
    assert problems(tmp_path, monkeypatch, text) == [
        "cfg.yaml:13: pools.regions.tiers[0]: only the last tier may have no 'when'"
        " (it takes every lead the others do not)",
        "cfg.yaml:15: pools.regions.tiers[2].name: duplicate tier 'big' (already tiers[1])",
    ]


def test_balance_tiers_without_tiers_and_tiers_without_the_balance_are_errors(tmp_path, monkeypatch):
    assert problems(
        tmp_path, monkeypatch, "regions: {members: [ivanova], strategy: weighted, balance: tiers}\n"
    ) == [
        "cfg.yaml:8: pools.regions.balance: "
        "balance: tiers needs tiers: [{name: big, when: ...}, {name: rest}]"
    ]
    text = (
        "regions: {members: [ivanova], strategy: weighted, tiers: [{name: a, when: {source: x}}, {name: b}]}"
    )
    assert problems(tmp_path, monkeypatch, text + "\n") == [
        "cfg.yaml:8: pools.regions.tiers: 'tiers' only applies with balance: tiers (this pool has count)"
    ]


def test_junk_needs_exactly_one_trigger_and_a_counting_pool(tmp_path, monkeypatch):
    text = "regions: {members: [ivanova], strategy: weighted, junk: {stage: Спам, loss_reason: Спам}}\n"
    assert problems(tmp_path, monkeypatch, text) == [
        "cfg.yaml:8: pools.regions.junk: junk needs exactly one of stage: NAME or loss_reason: NAME"
    ]
    text = "regions: {members: [ivanova], strategy: least_loaded, junk: {loss_reason: Спам}}\n"
    assert problems(tmp_path, monkeypatch, text) == [
        "cfg.yaml:8: pools.regions.junk: junk only applies to weighted and round_robin pools"
        " (this pool is least_loaded)"
    ]


def test_a_value_that_is_neither_price_nor_a_mapping_says_what_is_expected(tmp_path, monkeypatch):
    text = "regions: {members: [ivanova], strategy: weighted, balance: value, value: budget}\n"
    [problem] = problems(tmp_path, monkeypatch, text)
    assert problem.startswith("cfg.yaml:8: pools.regions.value: ")
    assert "expected price, {field: NAME} or {tiers:" in problem


def test_check_config_explains_value_balance_and_junk_credit_in_its_summary():
    from pathlib import Path

    from webhook_app.config.summary import render_summary

    root = Path(__file__).resolve().parents[2]
    lines = "\n".join(render_summary(load_config(root / "config.example.yaml")))
    assert (
        "делит по сумме (бюджет сделки): каждый лид тому, кто дальше всех ниже своей доли суммы, "
        "в пределах крупнейшего лида; расхождение по числу лидов видно в отчётах"
    ) in lines
    assert (
        "зачёт брака: лид, переведённый на этап «Некачественный лид» в течение 24 ч после получения, "
        "не засчитывается в долю (не больше 3 в неделю на менеджера)"
    ) in lines
