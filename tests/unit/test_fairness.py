"""Fairness figures per pool, checked against hand-computed values and a brute-force recomputation."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.decision import Decision, Outcome, Route
from core.fairness import FairnessTracker, PoolFairness
from tests.builders import NOON, manager, policy, pool


def assigned(
    who: str, pool_name: str = "p", route: Route = Route.POOL, strategy: str = "weighted"
) -> Decision:
    return Decision(
        lead_id="x", outcome=Outcome.ASSIGN, decided_at=NOON, assignee=who, route=route,
        pool=pool_name, strategy=strategy,
    )  # fmt: skip


def report_for(
    members: dict[str, int], sequence: Iterable[str], strategy: str = "weighted", **kw
) -> PoolFairness:
    people = [manager(key) for key in members]
    tracker = FairnessTracker(policy(people, [pool("p", members, strategy, weights=members, **kw)]))
    for key in sequence:
        tracker.record(assigned(key, strategy=strategy))
    return tracker.report()[0]


def test_weighted_shares_followed_exactly_show_a_third_of_a_lead_at_worst():
    # W = 3; after a: a +1/3, b −1/3; after b: a −1/3, b +1/3; after a: both 0.
    report = report_for({"a": 2, "b": 1}, "aba")
    a, b = report.members
    assert (a.received, a.target, a.deviation) == (2, 2.0, 0.0)
    assert (b.received, b.target, b.deviation) == (1, 1.0, 0.0)
    assert a.max_deviation == pytest.approx(1 / 3) and b.max_deviation == pytest.approx(1 / 3)
    assert report.leads == 3 and report.jain == pytest.approx(1.0)
    assert report.max_deviation == pytest.approx(1 / 3)


def test_the_worst_prefix_deviation_can_occur_mid_run_and_be_gone_at_the_end():
    # aaabbb with equal weights: a is +1.5 after three leads, b −1.5 just before its first lead.
    a, b = report_for({"a": 1, "b": 1}, "aaabbb").members
    assert a.deviation == 0.0 and b.deviation == 0.0
    assert a.max_deviation == pytest.approx(1.5)
    assert b.max_deviation == pytest.approx(1.5)


def test_jains_index_drops_when_one_member_gets_three_times_as_much():
    # x = (3, 1): (3 + 1)² / (2 · (9 + 1)) = 0.8
    report = report_for({"a": 1, "b": 1}, "aaba")
    a, b = report.members
    assert report.jain == pytest.approx(0.8)
    assert (a.deviation, b.deviation) == (1.0, -1.0)
    assert a.max_deviation == pytest.approx(1.0) and b.max_deviation == pytest.approx(1.0)


def test_jain_divides_by_weight_so_weighted_shares_count_as_perfectly_fair():
    assert report_for({"a": 3, "b": 1}, "aaab").jain == pytest.approx(1.0)


def test_a_member_who_never_gets_a_lead_falls_behind_until_the_end():
    c = report_for({"a": 1, "b": 1, "c": 1}, "abab").members[2]
    assert c.received == 0
    assert c.deviation == pytest.approx(-4 / 3) and c.max_deviation == pytest.approx(4 / 3)


def test_manual_and_claim_pools_report_counts_without_targets():
    people = [manager("a"), manager("b"), manager("head")]
    tracker = FairnessTracker(policy(people, [pool("p", ["a", "b"], "manual", head="head")]))
    tracker.record(assigned("head", strategy="manual"))
    report = tracker.report()[0]
    assert [(m.manager, m.received, m.target) for m in report.members] == [
        ("a", 0, None), ("b", 0, None), ("head", 1, None),
    ]  # fmt: skip
    assert report.max_deviation is None and report.jain is None and report.leads == 1


def test_continuity_fallback_and_waiting_decisions_are_not_pool_shares():
    people = [manager("a"), manager("b")]
    tracker = FairnessTracker(policy(people, [pool("p", ["a", "b"])]))
    tracker.record(assigned("a", route=Route.CONTINUITY))
    tracker.record(assigned("a", route=Route.FALLBACK))
    tracker.record(Decision(lead_id="w", outcome=Outcome.WAIT, decided_at=NOON, pool="p"))
    assert tracker.report()[0].leads == 0


def test_a_pool_without_leads_is_reported_with_zeros_and_no_index():
    report = report_for({"a": 1, "b": 1}, "")
    assert report.leads == 0 and report.jain is None and report.max_deviation == 0.0
    assert [m.received for m in report.members] == [0, 0]


def brute_force_max(weights: dict[str, int], sequence: list[str]) -> dict[str, Fraction]:
    total = sum(weights.values())
    counts = dict.fromkeys(weights, 0)
    worst = dict.fromkeys(weights, Fraction(0))
    for t, key in enumerate(sequence, start=1):
        counts[key] += 1
        for k, w in weights.items():
            worst[k] = max(worst[k], abs(counts[k] - Fraction(w * t, total)))
    return worst


@given(
    st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=5).flatmap(
        lambda ws: st.tuples(
            st.just(ws), st.lists(st.integers(min_value=0, max_value=len(ws) - 1), max_size=40)
        )
    )
)
def test_the_constant_time_tracker_matches_checking_every_prefix(case):
    weight_list, picks = case
    weights = {f"m{i}": w for i, w in enumerate(weight_list)}
    sequence = [f"m{i}" for i in picks]
    report = report_for(weights, sequence)
    expected = brute_force_max(weights, sequence)
    for member in report.members:
        assert member.max_deviation == pytest.approx(float(expected[member.manager]))
