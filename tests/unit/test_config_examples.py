"""The shipped example configs load cleanly and become the Policy they describe."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.conditions import Always
from core.decide import decide
from core.model import Lead, ReturnPolicy, TargetKind
from core.state import RoutingState
from webhook_app.config import LoadedConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
REGIONAL = ["kuznetsova", "smirnov", "popov", "volkova", "sokolov", "lebedeva", "kozlov"]


@pytest.fixture(scope="module")
def amo() -> LoadedConfig:
    return load_config(ROOT / "config.example.yaml")


@pytest.fixture(scope="module")
def bitrix() -> LoadedConfig:
    return load_config(ROOT / "examples" / "bitrix24.yaml")


def test_both_examples_load_without_errors_or_warnings(amo, bitrix):
    assert amo.warnings == []
    assert bitrix.warnings == []
    assert amo.crm.type == "amocrm" and bitrix.crm.type == "bitrix24"
    assert bitrix.crm.base_url == "https://example.bitrix24.ru"


def test_the_bitrix24_example_balances_value_and_credits_calls_lost_as_spam(bitrix):
    pools = bitrix.policy.pools
    assert (pools["shared"].balance, pools["territories"].balance) == ("value", "count")
    junk = pools["call-center"].junk
    assert junk is not None and (junk.stage, junk.loss_reason, junk.max_per_week) == (None, "Спам", 3)


def test_the_version_is_the_file_hash_and_is_stamped_on_the_policy(amo):
    assert len(amo.version) == 12
    assert amo.policy.version == amo.version
    int(amo.version, 16)


def test_the_amocrm_example_has_the_seed_company_ten_sellers_and_their_helpers(amo):
    managers = amo.policy.managers
    roles = [m.role for m in managers.values()]
    assert roles.count("hunter") == 7 and roles.count("vip") == 2 and roles.count("public-sector") == 1
    assert roles.count("farmer") == 2
    assert amo.policy.head_of_sales == "head"
    assert amo.policy.by_user_id[managers["orlova"].crm_user_id] == "orlova"


def test_the_amocrm_example_uses_every_strategy(amo):
    strategies = {p.strategy for p in amo.policy.pools.values()}
    assert strategies == {"round_robin", "weighted", "least_loaded", "sticky", "manual", "claim"}
    assert list(amo.policy.pools["territories"].members) == REGIONAL


def test_rules_keep_their_order_and_end_with_the_catch_all(amo):
    rules = amo.policy.rules
    assert rules[0].name == "tenders"
    assert rules[-1].name == "territories" and isinstance(rules[-1].condition, Always)
    assert [r.pool for r in rules[:4]] == ["tenders", "public-sector", "vip-moscow", "vip-regions"]


def test_half_weight_manager_gets_half_the_integer_weight(amo):
    weights = amo.policy.pools["shared"].weights
    assert weights["sokolov"] == 1 and weights["smirnov"] == 2
    assert weights["kuznetsova"] == 3  # the pool override 1.5


def test_on_return_variants_become_return_policies(amo):
    pools = amo.policy.pools
    assert pools["territories"].on_return == ReturnPolicy(0)
    assert pools["call-center"].on_return == ReturnPolicy(None)
    assert pools["shared"].on_return == ReturnPolicy(3)


def test_sticky_values_are_normalised_and_ranges_upper_cased(amo):
    territories = amo.policy.pools["territories"].sticky
    assert territories is not None and territories.key == "region"
    assert territories.by_value["свердловская область"] == "sokolov"
    chains = amo.policy.pools["chains"].sticky
    assert chains is not None
    assert ("А", "Л", "zaitseva") in chains.ranges and ("N", "Z", "pavlov") in chains.ranges


def test_managers_get_company_holidays_plus_their_own_and_their_time_zone(amo):
    lebedeva = amo.policy.managers["lebedeva"]
    assert date(2026, 12, 30) in lebedeva.holidays and date(2026, 1, 1) in lebedeva.holidays
    assert str(lebedeva.tz) == "Asia/Novosibirsk"
    assert str(amo.policy.managers["kozlov"].tz) == "Asia/Vladivostok"


def test_fallbacks_and_handoffs_point_at_the_right_kind_of_target(amo):
    policy = amo.policy
    assert policy.nobody_available.then is not None
    assert policy.nobody_available.then.kind is TargetKind.MANAGER
    vip = policy.pools["vip-moscow"].nobody_available
    assert vip is not None and vip.then is not None and vip.then.kind is TargetKind.POOL
    sla = next(h for h in policy.handoffs if h.name == "sla")
    assert sla.max_hops == 2 and sla.to == "next_in_pool"
    assert policy.on_assign.task is not None and policy.on_assign.task.due_minutes == 15


def test_the_loaded_policy_routes_a_moscow_vip_lead_to_the_moscow_vip_manager(amo):
    lead = Lead(id="1", created_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC), price=2_000_000, region="Москва")
    decision = decide(lead, amo.policy, RoutingState(), lead.created_at)
    assert decision.rule == "vip-moscow" and decision.assignee == "orlova"


def test_the_loaded_policy_routes_a_phone_prefix_lead_without_region_to_the_shared_pool(amo):
    lead = Lead(id="2", created_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC), phone="8 (499) 123-45-67")
    decision = decide(lead, amo.policy, RoutingState(), lead.created_at)
    assert decision.rule == "moscow" and decision.pool == "shared"
