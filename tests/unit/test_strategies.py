from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from core.availability import Skip, SkipReason
from core.decide import apply_decision, decide
from core.decision import Outcome
from core.model import Absence, NobodyAvailable, ReturnPolicy, StickyOptions
from core.reasons import reason_text
from core.state import ManagerLoad, Pause, PoolState, RoutingState
from tests.builders import MSK, NOON, lead, manager, policy, pool, run, weekdays

ABC = [manager("a"), manager("b"), manager("c")]


def who(decisions):
    return [d.assignee for d in decisions]


def test_round_robin_is_a_strict_linear_queue():
    decisions, _ = run(policy(ABC, [pool("p", "abc")]), 7)
    assert who(decisions) == list("abcabca")


def test_round_robin_skips_a_paused_member_and_resumes_without_a_burst():
    p = policy(ABC, [pool("p", "abc")])
    state = RoutingState(paused={"b": Pause()})
    decisions, state = run(p, 4, state=state)
    assert who(decisions) == list("acac")
    state = RoutingState(pools=state.pools, loads=state.loads)  # b is back
    decisions, _ = run(p, 6, state=state)
    # b starts at the others' level: one lead now, not a catch-up burst of two.
    assert Counter(who(decisions)) == Counter({"a": 2, "b": 2, "c": 2})


def test_catch_up_policy_lets_a_returning_member_make_up_missed_leads():
    p = policy(ABC, [pool("p", "abc", on_return=ReturnPolicy(max_catch_up=None))])
    _, state = run(p, 4, state=RoutingState(paused={"b": Pause()}))
    decisions, _ = run(p, 4, state=RoutingState(pools=state.pools))
    assert who(decisions)[:2] == ["b", "b"]


def test_catch_up_max_limits_the_burst():
    p = policy(ABC, [pool("p", "abc", on_return=ReturnPolicy(max_catch_up=1))])
    _, state = run(p, 10, state=RoutingState(paused={"b": Pause()}))
    decisions, _ = run(p, 7, state=RoutingState(pools=state.pools))
    # b missed five leads but may make up only one: over the next round-and-a-bit b gets
    # exactly one lead more than the others, then the queue is even again.
    assert Counter(who(decisions[:4])) == Counter({"b": 2, "a": 1, "c": 1})
    assert Counter(who(decisions[4:])) == Counter({"a": 1, "b": 1, "c": 1})


def test_a_newcomer_starts_at_the_pools_current_level():
    p = policy(ABC, [pool("p", "ab")])
    _, state = run(p, 10)
    grown = policy(ABC, [pool("p", "abc")])
    decisions, _ = run(grown, 6, state=state)
    assert Counter(who(decisions)) == Counter({"a": 2, "b": 2, "c": 2})


def test_counters_survive_a_member_leaving_the_team():
    p = policy(ABC, [pool("p", "abc")])
    _, state = run(p, 3)
    shrunk = policy(ABC, [pool("p", "ac")])
    _, state = run(shrunk, 2, state=state)
    assert state.pool("p").counts["b"] == 1


def test_weighted_gives_shares_by_weight():
    p = policy(ABC, [pool("p", "abc", "weighted", weights={"a": 2, "b": 2, "c": 1})])
    decisions, _ = run(p, 50)
    assert Counter(who(decisions)) == Counter({"a": 20, "b": 20, "c": 10})


def test_weighted_half_weight_member_gets_every_third_lead():
    p = policy(ABC[:2], [pool("p", "ab", "weighted", weights={"a": 2, "b": 1})])
    decisions, _ = run(p, 6)
    assert Counter(who(decisions[:3])) == Counter({"a": 2, "b": 1})
    assert Counter(who(decisions)) == Counter({"a": 4, "b": 2})


def test_least_loaded_picks_the_fewest_open_leads_per_capacity():
    ms = [manager("a", max_open=10), manager("b", max_open=4), manager("c", max_open=10)]
    loads = {"a": ManagerLoad(open=3), "b": ManagerLoad(open=1), "c": ManagerLoad(open=2)}
    p = policy(ms, [pool("p", "abc", "least_loaded")])
    d = decide(lead(), p, RoutingState(loads=loads), NOON)
    assert d.assignee == "c"  # 2/10 < 1/4 < 3/10


def test_least_loaded_spreads_an_idle_team_in_turn():
    decisions, _ = run(policy(ABC, [pool("p", "abc", "least_loaded")]), 6)
    assert who(decisions) == list("abcabc")


def sticky_policy(**options):
    ms = [manager("ivanova"), manager("petrov"), manager("sidorov")]
    opts = StickyOptions(**options)
    return policy(ms, [pool("p", ["ivanova", "petrov", "sidorov"], "sticky", sticky=opts)])


def test_sticky_by_alphabet_range_of_the_company_name():
    p = sticky_policy(key="company", ranges=(("А", "К", "ivanova"), ("Л", "Я", "petrov")))
    assert decide(lead(company="ООО «Альфа»"), p, RoutingState(), NOON).assignee == "ivanova"
    assert decide(lead(company="«Ромашка» ООО"), p, RoutingState(), NOON).assignee == "petrov"


def test_sticky_by_region_values():
    p = sticky_policy(key="region", by_value={"урал": "sidorov", "сибирь": "petrov"})
    assert decide(lead(region="Урал"), p, RoutingState(), NOON).assignee == "sidorov"


def test_sticky_unmapped_keys_hash_stably():
    p = sticky_policy(key="inn")
    first = decide(lead(inn="7701234567"), p, RoutingState(), NOON).assignee
    for i in range(5):
        state = RoutingState(pools={"p": PoolState(counts={"ivanova": i})})
        assert decide(lead(inn="77-01234567"), p, state, NOON).assignee == first


def test_sticky_owner_away_goes_to_the_substitute_in_the_pool():
    away = Absence(date(2026, 12, 1), date(2026, 12, 10), substitute="sidorov")
    ms = [manager("ivanova", absences=(away,)), manager("petrov"), manager("sidorov")]
    opts = StickyOptions(key="region", by_value={"урал": "ivanova"})
    p = policy(ms, [pool("p", ["ivanova", "petrov", "sidorov"], "sticky", sticky=opts)])
    assert decide(lead(region="Урал"), p, RoutingState(), NOON).assignee == "sidorov"


def test_sticky_without_a_key_falls_back_to_fair_shares():
    decisions, _ = run(sticky_policy(key="company"), 6)
    assert Counter(who(decisions)) == Counter({"ivanova": 2, "petrov": 2, "sidorov": 2})


def test_manual_goes_to_the_head_with_the_best_candidates_suggested():
    ms = [*ABC, manager("head")]
    p = policy(ms, [pool("p", "abc", "manual", suggest=2)], head_of_sales="head")
    state = RoutingState(pools={"p": PoolState(counts={"a": 5, "b": 1, "c": 3})})
    d = decide(lead(), p, state, NOON)
    assert d.assignee == "head" and d.suggested == ("b", "c")


def test_claim_parks_the_lead_on_the_pool_user_and_notifies_available_members():
    ms = [*ABC, manager("queue")]
    p = policy(ms, [pool("p", "abc", "claim", claim_user="queue")])
    d = decide(lead(), p, RoutingState(paused={"b": Pause()}), NOON)
    assert d.assignee == "queue" and d.notify == ("a", "c")


def test_apply_counts_todays_leads_and_open_leads():
    p = policy(ABC, [pool("p", "abc")])
    d = decide(lead(), p, RoutingState(), NOON)
    state = apply_decision(RoutingState(), d, p)
    assert state.load("a") == ManagerLoad(day=NOON.date(), today=1, open=1)
    later = NOON + timedelta(days=1)
    d2 = decide(lead("2", later), p, RoutingState(pools=state.pools, loads=state.loads), later)
    state = apply_decision(state, d2, p)
    assert state.load("b").count_on(later.date()) == 1


# Territories in two time zones: Smirnova (Moscow) owns Saint Petersburg, Lebedev (Novosibirsk,
# four hours ahead) owns the Novosibirsk region; Volkov (Novosibirsk) has no territory. All work
# 09:00-18:00 local time.
NSK = ZoneInfo("Asia/Novosibirsk")
MORNING = NOON.replace(hour=7, minute=40)  # Wednesday 07:40 in Moscow, 11:40 in Novosibirsk
NINE = NOON.replace(hour=9, minute=0)
SPB = lead(region="Санкт-Петербург", at=MORNING)
COLLEAGUES = ("lebedev", "volkov")


def territories(*, smirnova=None, pool_rule=None, **policy_options):
    ms = [
        manager("smirnova", tz=MSK, schedule=weekdays(), **(smirnova or {})),
        manager("lebedev", tz=NSK, schedule=weekdays()),
        manager("volkov", tz=NSK, schedule=weekdays()),
    ]
    values = {"санкт-петербург": "smirnova", "новосибирская область": "lebedev"}
    opts = StickyOptions(key="region", by_value=values)
    p = pool(
        "territories", ["smirnova", "lebedev", "volkov"], "sticky", sticky=opts, nobody_available=pool_rule
    )
    return policy(ms, [p], **policy_options)


def test_sticky_waits_for_the_territory_owner_s_shift_instead_of_a_colleague_in_another_time_zone():
    p = territories()
    d = decide(SPB, p, RoutingState(), MORNING)
    assert d.outcome is Outcome.WAIT and d.wait_until == NINE and d.assignee is None
    assert d.pool == "territories" and d.strategy == "sticky"
    assert d.skipped == (Skip("smirnova", SkipReason.OFF_HOURS, until=NINE),)
    assert "waiting for the territory's owner: smirnova" in reason_text(d, p, "en")


def test_the_waiting_lead_goes_to_the_owner_when_the_shift_starts():
    d = decide(SPB, territories(), RoutingState(), NINE)
    assert d.outcome is Outcome.ASSIGN and d.assignee == "smirnova"


def test_sticky_waits_for_an_owner_on_a_holiday_until_their_next_working_day():
    p = territories(smirnova={"holidays": frozenset({NOON.date()})})
    d = decide(SPB, p, RoutingState(), NOON)
    assert d.outcome is Outcome.WAIT and d.wait_until == NINE + timedelta(days=1)
    assert [s.reason for s in d.skipped] == [SkipReason.HOLIDAY]


def test_sticky_owner_on_vacation_goes_to_a_colleague_as_before():
    away = Absence(NOON.date(), NOON.date() + timedelta(days=7))
    d = decide(SPB, territories(smirnova={"absences": (away,)}), RoutingState(), MORNING)
    assert d.outcome is Outcome.ASSIGN and d.assignee in COLLEAGUES


def test_sticky_owner_on_vacation_goes_to_their_substitute_as_before():
    away = Absence(NOON.date(), NOON.date() + timedelta(days=7), substitute="volkov")
    d = decide(SPB, territories(smirnova={"absences": (away,)}), RoutingState(), MORNING)
    assert d.outcome is Outcome.ASSIGN and d.assignee == "volkov"


def test_a_paused_owner_is_not_waited_for():
    d = decide(SPB, territories(), RoutingState(paused={"smirnova": Pause()}), MORNING)
    assert d.outcome is Outcome.ASSIGN and d.assignee in COLLEAGUES


def test_sticky_does_not_wait_longer_than_the_pool_s_max_wait():
    hour = NobodyAvailable(max_wait=timedelta(hours=1))  # the owner starts in 80 minutes
    d = decide(SPB, territories(pool_rule=hour), RoutingState(), MORNING)
    assert d.outcome is Outcome.ASSIGN and d.assignee in COLLEAGUES


def test_without_a_pool_rule_the_global_max_wait_applies():
    hour = NobodyAvailable(max_wait=timedelta(hours=1))
    assert decide(SPB, territories(nobody_available=hour), RoutingState(), MORNING).assignee in COLLEAGUES
    two_hours = NobodyAvailable(max_wait=timedelta(hours=2))
    d = decide(SPB, territories(nobody_available=two_hours), RoutingState(), MORNING)
    assert d.outcome is Outcome.WAIT and d.wait_until == NINE


def test_a_pool_that_never_waits_for_a_shift_gives_the_lead_to_a_colleague():
    never = NobodyAvailable(wait_for_shift=False)
    d = decide(SPB, territories(pool_rule=never), RoutingState(), MORNING)
    assert d.outcome is Outcome.ASSIGN and d.assignee in COLLEAGUES


def test_keys_outside_the_territories_are_spread_among_the_available_as_before():
    d = decide(lead(region="Тверская область", at=MORNING), territories(), RoutingState(), MORNING)
    assert d.outcome is Outcome.ASSIGN and d.assignee in COLLEAGUES
