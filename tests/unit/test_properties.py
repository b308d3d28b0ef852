"""Fairness and safety invariants of the core, checked on generated teams and lead streams."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from core.availability import unavailability
from core.decide import apply_decision, decide
from core.decision import Outcome, Route
from core.model import Absence, ReturnPolicy, WeeklySchedule
from core.state import Pause, RoutingState
from tests.builders import NOON, lead, manager, policy, pool

KEYS = [f"m{i}" for i in range(8)]


@settings(max_examples=150, deadline=None)
@given(weights=st.lists(st.integers(1, 6), min_size=1, max_size=8), leads=st.integers(1, 150))
def test_weighted_pool_stays_within_one_lead_of_shares_at_every_prefix(weights, leads):
    keys = KEYS[: len(weights)]
    w = dict(zip(keys, weights, strict=True))
    p = policy([manager(k) for k in keys], [pool("p", keys, "weighted", weights=w)])
    total_w = sum(weights)
    state, counts = RoutingState(), Counter()
    for t in range(1, leads + 1):
        d = decide(lead(str(t)), p, state, NOON)
        state = apply_decision(state, d, p)
        counts[d.assignee] += 1
        for k in keys:
            assert abs(counts[k] - Fraction(w[k] * t, total_w)) < 1, (t, k, dict(counts))


@settings(max_examples=100, deadline=None)
@given(size=st.integers(1, 7), leads=st.integers(1, 60))
def test_round_robin_with_everyone_available_gives_each_member_one_lead_per_round(size, leads):
    keys = KEYS[:size]
    p = policy([manager(k) for k in keys], [pool("p", keys)])
    state, order = RoutingState(), []
    for t in range(leads):
        d = decide(lead(str(t)), p, state, NOON)
        state = apply_decision(state, d, p)
        order.append(d.assignee)
    for start in range(0, leads - size + 1, size):
        assert sorted(order[start : start + size]) == sorted(keys)


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(2, 6),
    pattern=st.lists(st.sets(st.integers(0, 5)), min_size=1, max_size=60),
)
def test_round_robin_never_gives_a_second_lead_before_every_available_member_had_one(size, pattern):
    keys = KEYS[:size]
    catch_up = ReturnPolicy(max_catch_up=None)  # counts stay the real counts: the sharpest form
    p = policy([manager(k) for k in keys], [pool("p", keys, on_return=catch_up)])
    state, counts = RoutingState(), Counter()
    for t, paused_idx in enumerate(pattern):
        paused = {keys[i]: Pause() for i in paused_idx if i < size}
        if len(paused) == size:
            continue
        current = RoutingState(pools=state.pools, loads=state.loads, paused=paused)
        d = decide(lead(str(t)), p, current, NOON)
        state = apply_decision(state, d, p)
        available = [k for k in keys if k not in paused]
        assert counts[d.assignee] == min(counts[k] for k in available)
        counts[d.assignee] += 1


schedules = st.sampled_from(
    [
        WeeklySchedule(days=tuple(((540, 1080),) if d < 5 else () for d in range(7))),
        WeeklySchedule(days=tuple(((0, 1440),) for _ in range(7))),
        WeeklySchedule(days=tuple(((1200, 1440),) for _ in range(7))),
    ]
)
member_specs = st.fixed_dictionaries(
    {
        "schedule": schedules,
        "max_per_day": st.one_of(st.none(), st.integers(1, 3)),
        "away": st.booleans(),
        "paused": st.booleans(),
    }
)


@settings(max_examples=80, deadline=None)
@given(
    specs=st.lists(member_specs, min_size=1, max_size=6),
    strategy=st.sampled_from(["round_robin", "weighted", "least_loaded", "sticky"]),
    hours=st.lists(st.integers(0, 24 * 14), min_size=1, max_size=40),
)
def test_nobody_unavailable_is_ever_chosen_and_decisions_are_repeatable(specs, strategy, hours):
    keys = KEYS[: len(specs)]
    away = Absence(date(2026, 12, 3), date(2026, 12, 9))
    ms = [
        manager(
            k, schedule=s["schedule"], max_per_day=s["max_per_day"], absences=(away,) if s["away"] else ()
        )
        for k, s in zip(keys, specs, strict=True)
    ]
    paused = {k: Pause() for k, s in zip(keys, specs, strict=True) if s["paused"]}
    p = policy([*ms, manager("head")], [pool("p", keys, strategy)], head_of_sales="head")
    by_key = {m.key: m for m in ms}
    state = RoutingState(paused=paused)
    for i, h in enumerate(sorted(hours)):
        now = NOON + timedelta(hours=h)
        item = lead(str(i), now, company=f"ООО Клиент {i % 7}")
        d = decide(item, p, state, now)
        assert d == decide(item, p, state, now)
        if d.outcome is Outcome.ASSIGN and d.route is Route.POOL:
            assert unavailability(by_key[d.assignee], now, state) is None
        else:
            assert d.outcome is Outcome.WAIT or d.assignee == "head"
            assert d.outcome is Outcome.ASSIGN or d.wait_until > now
        state = apply_decision(state, d, p)
