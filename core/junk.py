"""Junk credit: a lead its manager marks as junk soon after getting it stops counting toward their
share (count and value), at most `max_per_week` times a week per manager and pool.

The lifecycle decides a credit is due (`junk_due`, on the stage move or the loss that marks it);
every driver applies it with `apply_credit`, which enforces the weekly cap against the pool's
counters, so the worker, `simulate` and what-if grant exactly the same credits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.conditions import normalize_text
from core.decision import Decision, Route
from core.handoff import stage_is
from core.kinds import AuditKind
from core.lifecycle_types import Credit, LeadLife, Note, Share
from core.model import Lead
from core.policy import Policy
from core.state import RoutingState
from core.worth import lead_value, tier_of


def share_of(lead: Lead, decision: Decision, policy: Policy) -> Share | None:
    """What a pool with junk credit counts for a new lead it gave someone (None for any other route)."""
    pool = policy.pools.get(decision.pool or "") if decision.route is Route.POOL else None
    if pool is None or pool.junk is None or decision.assignee is None:
        return None
    tier = tier_of(lead, pool.tiers) if pool.balance == "tiers" else None
    return Share(pool.name, decision.assignee, decision.decided_at, lead_value(lead, pool.value), tier)


def junk_due(life: LeadLife, lead: Lead, policy: Policy, now: datetime) -> Credit | None:
    """A credit, when this state of the lead marks its pool share as junk in time; else None.

    Only the manager the pool counted it for, still holding it, is credited: a lead someone else
    moved on is no longer theirs to disown."""
    share = life.share
    if share is None or life.owner != share.manager:
        return None
    pool = policy.pools.get(share.pool)
    junk = pool.junk if pool is not None else None
    if junk is None or now - share.at > junk.within:
        return None
    if junk.stage is not None and stage_is(junk.stage, lead.pipeline, lead.stage):
        why = junk.stage.stage
    elif (
        junk.loss_reason is not None
        and lead.closed == "lost"
        and normalize_text(lead.loss_reason or "") == normalize_text(junk.loss_reason)
    ):
        why = junk.loss_reason
    else:
        return None
    year, week, _ = now.astimezone(policy.tz).isocalendar()
    week_text = f"{year}-W{week:02d}"
    return Credit(
        life.lead_id, share.pool, share.manager, share.value, share.tier, week_text, why, junk.max_per_week
    )


def credits_used(state: RoutingState, credit: Credit) -> int:
    """Credits the manager already had in the pool this week."""
    week, used = state.pool(credit.pool).junk.get(credit.manager, ("", 0))
    return used if week == credit.week else 0


def apply_credit(state: RoutingState, credit: Credit) -> tuple[RoutingState, bool]:
    """The state with the lead out of the manager's counters, and True; unchanged and False when the
    week's credits are used up."""
    used = credits_used(state, credit)
    if used >= credit.max_per_week:
        return state, False
    pool = state.pool(credit.pool)
    key = credit.manager
    counts = {**pool.counts, key: max(pool.counts.get(key, 0) - 1, 0)} if key in pool.counts else pool.counts
    values = pool.values
    if key in values:
        values = {**values, key: max(values[key] - credit.value, 0.0)}
    tiers = pool.tiers
    inner = tiers.get(credit.tier or "")
    if inner is not None and key in inner.counts:
        lowered = {**inner.counts, key: max(inner.counts[key] - 1, 0)}
        tiers = {**tiers, credit.tier or "": replace(inner, counts=lowered)}
    junk = {**pool.junk, key: (credit.week, used + 1)}
    after = replace(pool, counts=counts, values=values, tiers=tiers, junk=junk)
    pools = {**state.pools, credit.pool: after}
    return RoutingState(pools=pools, loads=state.loads, paused=state.paused, inactive=state.inactive), True


def credit_note(credit: Credit, granted: bool, used: int) -> Note:
    """The audit line of a credit: who, why, and how many of the week's credits it leaves."""
    detail = {
        "pool": credit.pool,
        "why": credit.why,
        "value": credit.value,
        "tier": credit.tier,
        "week": credit.week,
        "credits": used,
        "max_per_week": credit.max_per_week,
    }
    if granted:
        message = (
            f"junk credit: marked '{credit.why}', no longer counts toward the share in pool {credit.pool}"
        )
        return Note(AuditKind.JUNK_CREDIT, message, detail, manager=credit.manager)
    message = f"junk credit refused: {credit.max_per_week} already this week in pool {credit.pool}"
    return Note(AuditKind.JUNK_REFUSED, message, detail, manager=credit.manager)


def carry_credit(state: RoutingState, credit: Credit) -> tuple[RoutingState, Note]:
    """What a driver does with a credit: apply it (or not, past the cap) and the audit line."""
    after, granted = apply_credit(state, credit)
    return after, credit_note(credit, granted, credits_used(after, credit))
