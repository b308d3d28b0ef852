from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from core.availability import SkipReason
from core.conditions import Always, Equals, Range
from core.decide import decide
from core.decision import Outcome, Route
from core.model import Absence, NobodyAvailable, Target, TargetKind
from core.policy import Continuity, Rule
from core.reasons import reason_text
from core.state import ManagerLoad, Pause, RoutingState
from tests.builders import MSK, NOON, lead, manager, policy, pool, weekdays

EMPTY = RoutingState()


def with_manager(p, m):
    return replace(p, managers={**p.managers, m.key: m})


def team(**kw):
    ms = [
        manager("ivanova", 1, name="Иванова", schedule=weekdays()),
        manager("petrov", 2, name="Петров", schedule=weekdays()),
        manager("sidorov", 3, name="Сидоров", schedule=weekdays()),
        manager("head", 9, name="Руководитель"),
    ]
    pools = [pool("regions", ["ivanova", "petrov"]), pool("vip", ["sidorov"])]
    rules = [
        Rule("vip", Range("price", gte=1_000_000), "vip"),
        Rule("default", Always(), "regions"),
    ]
    kw.setdefault("head_of_sales", "head")
    return policy(ms, pools, rules, **kw)


def test_the_first_matching_rule_wins():
    d = decide(lead(price=2_000_000), team(), EMPTY, NOON)
    assert (d.rule, d.pool, d.assignee) == ("vip", "vip", "sidorov")
    d = decide(lead(price=10), team(), EMPTY, NOON)
    assert (d.rule, d.pool, d.assignee) == ("default", "regions", "ivanova")


def test_no_rule_matched_goes_to_the_head_of_sales():
    p = replace(team(), rules=())
    d = decide(lead(), p, EMPTY, NOON)
    assert (d.assignee, d.route) == ("head", Route.FALLBACK)


def test_nobody_on_shift_waits_for_the_next_shift_start():
    evening = NOON.replace(hour=20)
    d = decide(lead(at=evening), team(), EMPTY, evening)
    assert d.outcome is Outcome.WAIT and d.assignee is None
    assert d.wait_until == datetime(2026, 12, 3, 9, 0, tzinfo=MSK)
    assert {s.reason for s in d.skipped} == {SkipReason.OFF_HOURS}


def test_waiting_too_long_falls_back_to_the_configured_target():
    rule = NobodyAvailable(
        wait_for_shift=True, max_wait=timedelta(hours=2), then=Target(TargetKind.MANAGER, "head")
    )
    evening = NOON.replace(hour=20)
    d = decide(lead(at=evening), team(nobody_available=rule), EMPTY, evening)
    assert (d.outcome, d.assignee, d.route) == (Outcome.ASSIGN, "head", Route.FALLBACK)


def test_fallback_to_another_pool_when_nobody_in_the_first_can_take_it():
    rule = NobodyAvailable(wait_for_shift=False, then=Target(TargetKind.POOL, "vip"))
    state = RoutingState(paused={"ivanova": Pause(), "petrov": Pause()})
    d = decide(lead(), team(nobody_available=rule), state, NOON)
    assert (d.assignee, d.pool, d.rule) == ("sidorov", "vip", "default")


def test_fallback_pools_never_loop():
    rule = NobodyAvailable(wait_for_shift=False, then=Target(TargetKind.POOL, "regions"))
    state = RoutingState(paused={"ivanova": Pause(), "petrov": Pause()})
    d = decide(lead(), team(nobody_available=rule), state, NOON)
    assert (d.assignee, d.route) == ("head", Route.FALLBACK)


def test_without_any_fallback_the_lead_waits_and_is_never_dropped():
    state = RoutingState(paused={"ivanova": Pause(), "petrov": Pause()})
    rule = NobodyAvailable(wait_for_shift=False)
    d = decide(lead(), team(nobody_available=rule, head_of_sales=None), state, NOON)
    assert d.outcome is Outcome.WAIT and d.wait_until == NOON + timedelta(hours=1)


def test_continuity_sends_a_repeat_client_to_their_manager():
    p = team(continuity=Continuity(enabled=True, within_days=180))
    d = decide(lead(client_owner=2, client_last_seen=NOON - timedelta(days=30)), p, EMPTY, NOON)
    assert (d.assignee, d.route) == ("petrov", Route.CONTINUITY)


def test_continuity_expires_after_the_window():
    p = team(continuity=Continuity(enabled=True, within_days=180))
    d = decide(lead(client_owner=2, client_last_seen=NOON - timedelta(days=181)), p, EMPTY, NOON)
    assert d.route is Route.POOL


def test_continuity_never_overrides_caps_pauses_or_deactivation():
    p = team(continuity=Continuity(enabled=True))
    for state in (
        RoutingState(paused={"petrov": Pause()}),
        RoutingState(inactive=frozenset({"petrov"})),
    ):
        d = decide(lead(client_owner=2), p, state, NOON)
        assert d.assignee == "ivanova" and d.route is Route.POOL
    capped = with_manager(p, replace(p.managers["petrov"], max_per_day=1))
    loads = {"petrov": ManagerLoad(day=NOON.date(), today=1)}
    assert decide(lead(client_owner=2), capped, RoutingState(loads=loads), NOON).assignee == "ivanova"


def test_continuity_holds_outside_working_hours():
    p = team(continuity=Continuity(enabled=True))
    evening = NOON.replace(hour=21)
    d = decide(lead(client_owner=2, at=evening), p, EMPTY, evening)
    assert d.assignee == "petrov"


def test_continuity_gives_an_absent_managers_client_to_the_substitute():
    away = Absence(date(2026, 12, 1), date(2026, 12, 14), substitute="ivanova")
    p = team(continuity=Continuity(enabled=True))
    p = with_manager(p, replace(p.managers["petrov"], absences=(away,)))
    d = decide(lead(client_owner=2), p, EMPTY, NOON)
    assert (d.assignee, d.route) == ("ivanova", Route.SUBSTITUTE)
    assert d.skipped[0].manager == "petrov"


def test_unknown_client_owner_falls_through_to_rules():
    d = decide(lead(client_owner=777), team(continuity=Continuity(enabled=True)), EMPTY, NOON)
    assert d.route is Route.POOL


def test_reason_in_russian_names_rule_pool_chosen_and_skipped():
    state = RoutingState(paused={"ivanova": Pause(until=NOON + timedelta(hours=3))})
    d = decide(lead(region="Москва"), team(), state, NOON)
    text = reason_text(d, team())
    assert text == (
        "правило «default» → пул «regions» (по очереди); выбран: Петров; "
        "пропущены: Иванова — на паузе до 02.12.2026 15:00"
    )


def test_reason_in_english():
    evening = NOON.replace(hour=20)
    d = decide(lead(at=evening), team(), EMPTY, evening)
    text = reason_text(d, team(), "en")
    assert text.startswith(
        "rule 'default' → pool 'regions' (in turn); nobody available in pool 'regions'; "
        "waiting for a shift until 2026-12-03 09:00; skipped: "
    )
    assert "Иванова — off hours until 2026-12-03 09:00" in text


def test_the_same_input_and_state_give_the_same_decision():
    p = team()
    assert decide(lead(price=5), p, EMPTY, NOON) == decide(lead(price=5), p, EMPTY, NOON)


def test_decision_records_the_config_version():
    p = team(version="abc123")
    assert decide(lead(), p, EMPTY, NOON).config_version == "abc123"


def test_equals_rule_routes_by_region():
    ms = [manager("a"), manager("b")]
    rules = [Rule("msk", Equals("region", ["Москва"]), "p2"), Rule("rest", Always(), "p1")]
    p = policy(ms, [pool("p1", ["a"]), pool("p2", ["b"])], rules)
    assert decide(lead(region="москва"), p, EMPTY, NOON).assignee == "b"
