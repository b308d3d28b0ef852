"""`decide`: the one pure function that routes a lead. Time and state come in; a value comes out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from core.availability import Skip, split_team
from core.context import Context, continuity
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.matcher import UNMATCHED
from core.model import Lead, Pool, Target, TargetKind
from core.policy import Matched, Policy
from core.state import ManagerLoad, RoutingState
from core.strategies import REGISTRY, Choice, PoolView

RETRY_WHEN_STUCK = timedelta(hours=1)  # no fallback configured at all: look again, never drop


def decide(
    lead: Lead, policy: Policy, state: RoutingState, now: datetime, *, matched: Matched = UNMATCHED
) -> Decision:
    """Route one lead: continuity first, then the first matching rule's pool, then the fallbacks.

    `matched` is `policy.matcher.first(lead)` when the caller already has it (simulate matches the
    rules in the process that reads the file, on the other core).
    """
    ctx = Context(lead, policy, state, now)
    kept = continuity(ctx)
    if kept is not None:
        return kept
    rule = policy.matcher.first(lead) if matched is UNMATCHED else matched
    if rule is not None:
        ctx.step(StepCode.RULE_MATCHED, rule=rule.name, pool=rule.pool)
        return _route_pool(ctx, policy.pools[rule.pool], set(), rule.name)
    ctx.step(StepCode.NO_RULE)
    return _fallback(ctx, [], set(), None)


def decide_in_pool(
    lead: Lead,
    policy: Policy,
    state: RoutingState,
    now: datetime,
    pool: str,
    *,
    exclude: frozenset[str] = frozenset(),
    steps: tuple[Step, ...] = (),
    members_in_turn: bool = False,
) -> Decision:
    """Route a lead inside one pool (a handoff's `to`), never to anyone in `exclude`. With
    `members_in_turn`, a `claim` or `manual` pool gives the lead to its members in turn instead
    of parking it on the claim user or the head (an SLA re-route must reach a person)."""
    ctx = Context(lead, policy, state, now, exclude)
    ctx.steps.extend(steps)
    chosen = policy.pools[pool]
    if members_in_turn and chosen.strategy in ("claim", "manual"):
        chosen = replace(chosen, strategy="round_robin")
    return _route_pool(ctx, chosen, set(), None)


def decide_for(
    lead: Lead,
    policy: Policy,
    now: datetime,
    person: str,
    *,
    steps: tuple[Step, ...] = (),
    route: Route = Route.FALLBACK,
) -> Decision:
    """A decision naming one person outright (a handoff's fallback, an owner back from vacation)."""
    ctx = Context(lead, policy, RoutingState(), now)
    ctx.steps.extend(steps)
    return ctx.decision(Outcome.ASSIGN, assignee=person, route=route)


def _route_pool(ctx: Context, pool: Pool, visited: set[str], rule: str | None) -> Decision:
    visited.add(pool.name)
    policy = ctx.policy
    windows = policy.calendar.team(pool.name, pool.members, policy.managers, ctx.now)
    eligible, positions, keys, skipped = split_team(windows, ctx.now, ctx.state, ctx.exclude)
    strategy = REGISTRY[pool.strategy]
    if not eligible and strategy.needs_members:
        ctx.step(StepCode.NOBODY_AVAILABLE, pool=pool.name)
        return _nobody(ctx, pool, skipped, visited, rule)
    state, skips = ctx.state, tuple(skipped)
    view = PoolView(
        pool,
        ctx.lead,
        tuple(eligible),
        tuple(positions),
        state.pool(pool.name),
        state,
        policy,
        ctx.now,
        tuple(keys),
        skips,
    )
    choice = strategy.choose(view)
    if choice.passed_over is not None:  # only the candidates that mattered, not the whole team
        skips = tuple(skip for skip in skips if skip.manager in choice.passed_over)
    if choice.wait_until is not None:
        return _wait_for(ctx, pool, rule, choice, skips)
    # Spelled out rather than through ctx.decision (one dict of arguments less): most leads end here.
    return Decision(
        lead_id=ctx.lead.id,
        outcome=Outcome.ASSIGN,
        decided_at=ctx.now,
        assignee=choice.assignee,
        route=Route.POOL,
        rule=rule,
        pool=pool.name,
        strategy=pool.strategy,
        skipped=skips,
        steps=tuple(ctx.steps),
        suggested=choice.suggested,
        notify=choice.notify,
        detail=choice.detail,
        pool_state=choice.pool_state,
        config_version=policy.version,
    )


def _wait_for(
    ctx: Context, pool: Pool, rule: str | None, choice: Choice, skips: tuple[Skip, ...]
) -> Decision:
    """The strategy waits for one member (sticky: a territory's owner who is off shift for now)."""
    ctx.step(StepCode.WAIT_FOR_OWNER, pool=pool.name, manager=choice.assignee)
    return ctx.decision(
        Outcome.WAIT,
        wait_until=choice.wait_until,
        pool=pool.name,
        strategy=pool.strategy,
        rule=rule,
        skipped=tuple(skip for skip in skips if skip.manager == choice.assignee),
        detail=choice.detail,
    )


def _nobody(
    ctx: Context, pool: Pool, skipped: list[Skip], visited: set[str], rule_name: str | None
) -> Decision:
    rule = pool.nobody_available or ctx.policy.nobody_available
    comeback = [s.until for s in skipped if s.until is not None]
    if rule.wait_for_shift and comeback:
        until = min(comeback)
        if rule.max_wait is None or until - ctx.now <= rule.max_wait:
            ctx.step(StepCode.WAIT_FOR_SHIFT, pool=pool.name)
            return ctx.decision(
                Outcome.WAIT,
                wait_until=until,
                pool=pool.name,
                strategy=pool.strategy,
                skipped=tuple(skipped),
                rule=rule_name,
            )
    return _fallback(ctx, skipped, visited, rule_name, rule.then)


def _fallback(
    ctx: Context,
    skipped: list[Skip],
    visited: set[str],
    rule: str | None,
    target: Target | None = None,
) -> Decision:
    then = target or ctx.policy.nobody_available.then
    if then is not None and then.kind is TargetKind.POOL and then.name not in visited:
        ctx.step(StepCode.FALLBACK, pool=then.name)
        return _route_pool(ctx, ctx.policy.pools[then.name], visited, rule)
    person = then.name if then is not None and then.kind is TargetKind.MANAGER else None
    person = person or ctx.policy.head_of_sales
    if person is None:
        until = min((s.until for s in skipped if s.until), default=ctx.now + RETRY_WHEN_STUCK)
        return ctx.decision(Outcome.WAIT, wait_until=until, skipped=tuple(skipped), rule=rule)
    ctx.step(StepCode.FALLBACK, manager=person)
    return ctx.decision(Outcome.ASSIGN, assignee=person, route=Route.FALLBACK, skipped=tuple(skipped))


def apply_decision(state: RoutingState, decision: Decision, policy: Policy) -> RoutingState:
    """The state after a decision took effect: the pool advanced, the assignee's load counted."""
    if decision.outcome is not Outcome.ASSIGN or decision.assignee is None:
        return state
    pools = state.pools
    if decision.pool is not None and decision.pool_state is not None:
        pools = {**state.pools, decision.pool: decision.pool_state}
    key = decision.assignee
    manager = policy.managers.get(key)
    day = decision.decided_at.astimezone(manager.tz if manager else policy.tz).date()
    load = state.load(key)
    counted = ManagerLoad(day=day, today=load.count_on(day) + 1, open=load.open + 1)
    loads = {**state.loads, key: counted}
    return RoutingState(pools=pools, loads=loads, paused=state.paused, inactive=state.inactive)
