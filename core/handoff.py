"""Handoffs, decided purely: which configured handover a stage move triggers, what blocks it, and
who takes the deal (on stage, N days after a stage, SLA re-route, return after an absence)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.availability import SEARCH_DAYS, absence_on
from core.conditions import normalize_text
from core.decide import decide_for, decide_in_pool
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.kinds import JobKind
from core.model import Lead, Manager, ManagerKey, StageRef, TargetKind
from core.policy import Handoff, Policy
from core.state import RoutingState

# What became of a handoff that was due, as metrics and `simulate` count it.
HANDED = "handed"  # a new owner from the handoff's pool (or the owner back after an absence)
TO_HEAD = "to-head"  # a fallback person: the head of sales after K SLA hops, or nobody in the pool
KEPT = "kept-by-exception"  # an `unless` condition kept the deal where it is (VIP stays)
BLOCKED = "blocked"  # the owner is listed in `never_move`


@dataclass(frozen=True, slots=True)
class StageMove:
    """A deal seen in one stage before and another now (names as in the config)."""

    pipeline_before: str | None
    stage_before: str | None
    pipeline: str | None
    stage: str | None


def place_of(lead: Lead) -> str:
    """Where a deal is, as one text: its stage id from a CRM, else its pipeline and stage names."""
    if lead.stage_id:
        return lead.stage_id
    return f"{normalize_text(lead.pipeline or '')}/{normalize_text(lead.stage or '')}"


def stage_is(ref: StageRef, pipeline: str | None, stage: str | None) -> bool:
    """True when (pipeline, stage) is the referenced stage (the pipeline only if the ref names one)."""
    if stage is None or normalize_text(ref.stage) != normalize_text(stage):
        return False
    return ref.pipeline is None or (
        pipeline is not None and normalize_text(ref.pipeline) == normalize_text(pipeline)
    )


def _entered(ref: StageRef, move: StageMove) -> bool:
    """A transition *into* the stage: staying in it (or a repeat of our own write) never counts."""
    return stage_is(ref, move.pipeline, move.stage) and not stage_is(
        ref, move.pipeline_before, move.stage_before
    )


def on_stage(policy: Policy, move: StageMove) -> Handoff | None:
    """The first `on_stage` handoff this move triggers, if any."""
    return next((h for h in policy.handoffs if h.on_stage is not None and _entered(h.on_stage, move)), None)


def after_days(policy: Policy, move: StageMove) -> list[Handoff]:
    """`after_days` handoffs whose clock this move starts."""
    return [
        h for h in policy.handoffs if h.in_stage is not None and h.after_days and _entered(h.in_stage, move)
    ]


def sla(policy: Policy) -> Handoff | None:
    """The SLA re-route handoff, if configured."""
    return next((h for h in policy.handoffs if h.unworked_minutes), None)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """Work a new lead's decision schedules: an SLA check of `manager`, or their return from absence."""

    kind: JobKind  # SLA or RETURN
    due: datetime
    manager: ManagerKey  # sla: who holds the lead; return: the owner coming back
    pool: str | None = None  # sla: the pool the next member comes from


def followups(decision: Decision, policy: Policy, now: datetime) -> list[FollowUp]:
    """The SLA check of a lead decided through a pool, and the return to an owner who is away."""
    result = []
    rule = sla(policy)
    assignee = policy.managers.get(decision.assignee or "")
    if rule is not None and rule.unworked_minutes and decision.pool and assignee is not None:
        due = working_deadline(assignee, now, rule.unworked_minutes)
        if due is not None:
            result.append(FollowUp(JobKind.SLA, due, assignee.key, decision.pool))
    away = decision.skipped[0] if decision.route is Route.SUBSTITUTE and decision.skipped else None
    if (
        away is not None
        and away.until is not None
        and any(away.manager in p.members and p.return_after_absence for p in policy.pools.values())
    ):
        result.append(FollowUp(JobKind.RETURN, away.until, away.manager))
    return result


def blocked(handoff: Handoff, lead: Lead, owner: str | None) -> Step | None:
    """Why this deal must stay where it is (a never-moved owner, an `unless` condition), or None."""
    if owner is not None and owner in handoff.never_move:
        return Step(StepCode.HANDOFF_BLOCKED, {"handoff": handoff.name, "never_move": owner})
    if handoff.unless is not None and handoff.unless.matches(lead):
        return Step(StepCode.HANDOFF_BLOCKED, {"handoff": handoff.name, "unless": handoff.unless.describe()})
    return None


def stop_outcome(step: Step) -> str:
    """`blocked` for an owner whose deals never move, `kept-by-exception` for an `unless` match."""
    return BLOCKED if "never_move" in step.params else KEPT


def outcome_of(decision: Decision) -> str:
    """`to-head` when a handover ended on a fallback person, else `handed`."""
    return TO_HEAD if decision.route is Route.FALLBACK else HANDED


def hand_over(
    lead: Lead, policy: Policy, state: RoutingState, now: datetime, handoff: Handoff, owner: str | None
) -> Decision:
    """The deal goes to the handoff's pool by that pool's strategy, never back to its current owner."""
    step = Step(StepCode.HANDOFF, {"handoff": handoff.name, "previous": owner or ""})
    exclude = frozenset({owner}) if owner else frozenset()
    return decide_in_pool(lead, policy, state, now, handoff.to, exclude=exclude, steps=(step,))


def reroute(
    lead: Lead,
    policy: Policy,
    state: RoutingState,
    now: datetime,
    handoff: Handoff,
    pool: str,
    turns: Sequence[str],
) -> Decision:
    """SLA: the next eligible member of the pool who never had the lead; after K hops, the fallback.

    Every ring is a hop, whoever held the lead (a claim user or a manual head too), so it ends."""
    hop, had = len(turns), frozenset(turns)
    step = Step(StepCode.SLA_EXPIRED, {"minutes": str(handoff.unworked_minutes), "hop": str(hop)})
    if handoff.max_hops is None or hop <= handoff.max_hops:
        decision = decide_in_pool(
            lead, policy, state, now, pool, exclude=had, steps=(step,), members_in_turn=True
        )
        if (
            decision.outcome is Outcome.ASSIGN
            and decision.route is Route.POOL
            and decision.assignee not in had
        ):
            return decision
    target = handoff.then
    if target is not None and target.kind is TargetKind.POOL:
        return decide_in_pool(lead, policy, state, now, target.name, exclude=had, steps=(step,))
    person = target.name if target is not None else policy.head_of_sales
    if person is None:
        return decide_in_pool(lead, policy, state, now, pool, exclude=had, steps=(step,))
    return decide_for(lead, policy, now, person, steps=(step, Step(StepCode.FALLBACK, {"manager": person})))


def working_deadline(manager: Manager, start: datetime, minutes: int) -> datetime | None:
    """The moment `minutes` of the manager's working time have passed since `start` (to the
    second: a lead that came at 10:00:59 with 15 minutes is due at 10:15:59, not 10:15:00)."""
    local = start.astimezone(manager.tz)
    left = timedelta(minutes=minutes)
    for offset in range(SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        if day in manager.holidays or absence_on(manager, day) is not None:
            continue
        midnight = datetime.combine(day, time(0), manager.tz)
        floor = timedelta(0)
        if offset == 0:  # the time of day `start` is at, seconds included
            floor = timedelta(
                hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
            )
        for begin, end in manager.schedule.intervals(day.weekday()):
            opens, closes = max(timedelta(minutes=begin), floor), timedelta(minutes=end)
            if closes <= opens:
                continue
            if closes - opens >= left:
                return (midnight + opens + left).astimezone(start.tzinfo)
            left -= closes - opens
    return None
