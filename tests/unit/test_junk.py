"""Junk credit in the core: when the lifecycle grants it, and what `apply_credit` takes back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.conditions import Range
from core.decide import apply_decision
from core.junk import apply_credit, carry_credit
from core.kinds import AuditKind
from core.lifecycle import step
from core.lifecycle_types import Arrived, Credit, Updated
from core.model import JunkCredit, LeadValue, StageRef, Tier
from core.state import RoutingState
from tests.builders import NOON, lead, manager, policy, pool

SPAM = JunkCredit(stage=StageRef("Спам"), within=timedelta(hours=24), max_per_week=2)
TIERS = (Tier("big", Range("price", gte=100_000)), Tier("small"))


def team(junk: JunkCredit = SPAM, **kw):
    return policy([manager("a", 1), manager("b", 2)], [pool("p", ["a", "b"], "weighted", junk=junk, **kw)])


def arrive(p, state, lead_id="1", **fields):
    item = lead(lead_id, **fields)
    moved = step(None, Arrived(item), p, state, NOON)
    [assign] = [e for e in moved.effects if hasattr(e, "decision")]
    return moved.life, item, apply_decision(state, assign.decision, p)


def test_a_lead_moved_to_the_junk_stage_in_time_is_credited_with_its_value_and_tier():
    p = team(balance="value", value=LeadValue())
    life, item, state = arrive(p, RoutingState(), price=250_000.0)
    assert life.share is not None and life.share.value == 250_000.0
    moved = step(life, Updated(replace(item, stage="спам"), NOON), p, state, NOON + timedelta(hours=3))
    [credit] = [e for e in moved.effects if isinstance(e, Credit)]
    assert (credit.manager, credit.value, credit.why, credit.week) == ("a", 250_000.0, "Спам", "2026-W49")
    assert moved.life.share is None  # one credit per lead
    after, note = carry_credit(state, credit)
    assert note.kind is AuditKind.JUNK_CREDIT and note.manager == "a" and note.detail["credits"] == 1
    assert after.pool("p").counts["a"] == 0 and after.pool("p").values["a"] == 0.0


def test_too_late_someone_elses_lead_or_another_stage_earns_no_credit():
    p = team()
    life, item, state = arrive(p, RoutingState())
    spam = replace(item, stage="Спам")
    assert not any(
        isinstance(e, Credit)
        for e in step(life, Updated(spam, NOON), p, state, NOON + timedelta(hours=25)).effects
    )
    other = replace(item, stage="Переговоры")
    assert not any(isinstance(e, Credit) for e in step(life, Updated(other, NOON), p, state, NOON).effects)
    taken = replace(life, owner="b")
    assert not any(isinstance(e, Credit) for e in step(taken, Updated(spam, NOON), p, state, NOON).effects)


def test_a_loss_with_the_named_reason_is_junk_and_a_loss_for_another_reason_is_not():
    p = team(JunkCredit(loss_reason="Спам", max_per_week=3))
    life, item, state = arrive(p, RoutingState())
    lost = replace(item, stage="Закрыто и не реализовано", closed="lost")
    later = NOON + timedelta(hours=1)
    assert any(
        isinstance(e, Credit)
        for e in step(life, Updated(replace(lost, loss_reason="спам"), NOON), p, state, later).effects
    )
    assert not any(
        isinstance(e, Credit)
        for e in step(life, Updated(replace(lost, loss_reason="Дорого"), NOON), p, state, later).effects
    )


def test_a_reason_picked_after_the_loss_still_earns_the_credit_once_and_only_in_time():
    p = team(JunkCredit(loss_reason="Спам", max_per_week=3))
    life, item, state = arrive(p, RoutingState())
    lost = replace(item, stage="Закрыто и не реализовано", closed="lost")
    closed = step(life, Updated(lost, NOON), p, state, NOON + timedelta(hours=1))
    assert not any(isinstance(e, Credit) for e in closed.effects) and closed.life.share is not None
    spam = replace(lost, loss_reason="Спам")
    named = step(closed.life, Updated(spam, NOON), p, state, NOON + timedelta(hours=2))
    [credit] = [e for e in named.effects if isinstance(e, Credit)]
    assert credit.manager == "a" and credit.why == "Спам" and named.life.share is None
    again = step(named.life, Updated(spam, NOON), p, state, NOON + timedelta(hours=3))
    assert not any(isinstance(e, Credit) for e in again.effects)  # one credit per lead
    late = step(closed.life, Updated(spam, NOON), p, state, NOON + timedelta(hours=25))
    assert not any(isinstance(e, Credit) for e in late.effects)


def test_credits_stop_at_the_weekly_cap_and_start_again_next_week():
    p = team(balance="tiers", tiers=TIERS)
    state = RoutingState()
    for n in range(3):
        _, _, state = arrive(p, state, str(n), price=500_000.0)
    counts = dict(state.pool("p").counts)
    credit = Credit("0", "p", "a", 500_000.0, "big", "2026-W49", "Спам", 2)
    state, granted = apply_credit(state, credit)
    assert granted and state.pool("p").tiers["big"].counts["a"] == counts["a"] - 1
    state, granted = apply_credit(state, credit)
    assert granted
    unchanged, granted = apply_credit(state, credit)
    assert not granted and unchanged is state
    _, note = carry_credit(state, credit)
    assert note.kind is AuditKind.JUNK_REFUSED
    state, granted = apply_credit(state, replace(credit, week="2026-W50"))
    assert granted and state.pool("p").junk["a"] == ("2026-W50", 1)
