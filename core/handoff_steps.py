"""The lifecycle's handoff steps: timers a decision sets, and what each ring or stage move does.

Each returns the lead's life after it and the effects, in order; nothing here reads a clock, a
store or a CRM. The rules they keep (docs/configuration.md, "The lead's whole life"):
a stage or time handoff never takes a deal from a member of its target pool (unless `reassign:
always`) nor from someone outside `from:`; every SLA ring is a hop, so the SLA always ends; an
owner back from an absence gets back what the substitute holds, worked on or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from core.decide import decide_for
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.handoff import (
    StageMove,
    after_days,
    blocked,
    hand_over,
    on_stage,
    place_of,
    reroute,
    sla,
    working_deadline,
)
from core.kinds import AuditKind, JobKind
from core.lifecycle_types import Assign, Effect, LeadLife, Note, SetTimer
from core.model import Lead, ManagerKey
from core.policy import Handoff, Policy
from core.ports import CrmWrite, WriteKind
from core.shifts import SkipReason
from core.state import RoutingState
from core.strategies.sticky import key_owner

Steps = tuple[LeadLife, tuple[Effect, ...]]
RETRY_WHEN_STUCK = timedelta(hours=1)  # nobody can take a re-route and no moment is known: look again


def _assigned(life: LeadLife, effect: Assign, policy: Policy) -> LeadLife:
    manager = policy.managers[effect.decision.assignee or ""]
    done = life.done | {effect.purpose}
    return replace(
        life,
        owner=manager.key,
        owner_user=manager.crm_user_id,
        done=done,
        written_at=effect.decision.decided_at,
    )


def timers_after_decision(
    life: LeadLife, decision: Decision, lead: Lead, policy: Policy, now: datetime
) -> tuple[LeadLife, tuple[Effect, ...]]:
    """A new lead's SLA check, and its return to an owner who is away (continuity or territory)."""
    timers: list[Effect] = []
    rule, holder = sla(policy), policy.managers.get(decision.assignee or "")
    if rule is not None and rule.unworked_minutes and decision.pool and holder is not None:
        due = working_deadline(holder, now, rule.unworked_minutes)
        if due is not None:
            life = replace(life, sla_turns=(holder.key,))
            timers.append(_sla_timer(life, due, decision.pool, lead))
    away = _away_owner(decision, lead, policy)
    if away is not None:
        owner, until, untouched = away
        data = {
            "owner": owner,
            "substitute": decision.assignee or "",
            "only_untouched": "1" if untouched else "",
        }
        timers.append(SetTimer(JobKind.RETURN, until, data))
    return life, tuple(timers)


def _sla_timer(life: LeadLife, due: datetime, pool: str, lead: Lead) -> SetTimer:
    data = {
        "holder": life.owner or "",
        "turn": str(len(life.sla_turns)),
        "pool": pool,
        "stage_id": place_of(lead),
    }
    return SetTimer(JobKind.SLA, due, data)


def _away_owner(decision: Decision, lead: Lead, policy: Policy) -> tuple[ManagerKey, datetime, bool] | None:
    """Whose lead this is while they are away, when they get it back, and only if untouched."""
    owner: ManagerKey | None = None
    if decision.route is Route.SUBSTITUTE and decision.skipped:
        owner = decision.skipped[0].manager  # a repeat client's manager, away
    elif decision.route is Route.POOL and decision.pool is not None:
        pool = policy.pools[decision.pool]
        if pool.strategy == "sticky" and pool.return_after_absence:
            owner = key_owner(pool, lead)  # the territory's (letters', industry's) owner
    skip = next((s for s in decision.skipped if s.manager == owner and s.reason is SkipReason.ABSENT), None)
    if owner is None or skip is None or skip.until is None or owner == decision.assignee:
        return None
    pools = [p for p in policy.pools.values() if owner in p.members and p.return_after_absence]
    if not pools:
        return None
    return owner, skip.until, all(p.return_only_untouched for p in pools)


def handoff_on_stage(
    life: LeadLife,
    before: tuple[str | None, str | None],
    lead: Lead,
    policy: Policy,
    state: RoutingState,
    now: datetime,
) -> Steps:
    """A move *into* a stage: start its N-days clocks, and hand the deal over if a handoff says so."""
    move = StageMove(before[0], before[1], lead.pipeline, lead.stage)
    timers: tuple[Effect, ...] = tuple(
        SetTimer(
            JobKind.AFTER_DAYS,
            now + timedelta(days=h.after_days or 0),
            {"handoff": h.name, "stage_id": place_of(lead)},
        )
        for h in after_days(policy, move)
    )
    handoff = on_stage(policy, move)
    if handoff is None:
        return life, timers
    after, effects = _hand(life, handoff, lead, policy, state, now)
    return after, (*timers, *effects)


def handoff_timer(
    life: LeadLife, data: Mapping[str, str], lead: Lead, policy: Policy, state: RoutingState, now: datetime
) -> Steps:
    """N days in a stage passed (or a handoff waited for a shift): hand over, unless it left the stage."""
    handoff = next((h for h in policy.handoffs if h.name == data.get("handoff")), None)
    if handoff is None or place_of(lead) != data.get("stage_id"):
        message = "the deal left the stage (or the handoff is gone)"
        where = handoff.in_stage.stage if handoff is not None and handoff.in_stage is not None else ""
        step = Step(
            StepCode.HANDOFF_CANCELLED, {"handoff": str(data.get("handoff", "")), "left_stage": where}
        )
        return life, (Note(AuditKind.HANDOFF_CANCELLED, message, dict(data), step=step),)
    return _hand(life, handoff, lead, policy, state, now)


def _hand(
    life: LeadLife, handoff: Handoff, lead: Lead, policy: Policy, state: RoutingState, now: datetime
) -> Steps:
    """Hand the deal over once, unless it must stay where it is (and the audit says why)."""
    if handoff.name in life.done:
        message = f"handoff '{handoff.name}' already done"
        return life, (Note(AuditKind.HANDOFF_DONE, message, {"handoff": handoff.name}),)
    owner = life.owner
    stop = _stays(handoff, lead, owner, policy)
    if stop is not None:
        message, detail = stop
        detail = {"handoff": handoff.name, **detail}
        step = Step(StepCode.HANDOFF_BLOCKED, detail)
        return life, (Note(AuditKind.HANDOFF_BLOCKED, message, detail, step=step),)
    decision = hand_over(lead, policy, state, now, handoff, owner)
    if decision.outcome is Outcome.WAIT:
        until = decision.wait_until or now + RETRY_WHEN_STUCK
        data = {"handoff": handoff.name, "stage_id": place_of(lead)}
        return life, (SetTimer(JobKind.AFTER_DAYS, until, data),)
    extra = _hunter_field(handoff, lead, policy, owner)
    effect = Assign(decision, handoff.name, AuditKind.HANDOFF, extra)
    after = _assigned(life, effect, policy)
    if handoff.keep_hunter_in_field and owner is not None:
        after = replace(after, hunter=owner)
    return after, (effect,)


def _stays(
    handoff: Handoff, lead: Lead, owner: ManagerKey | None, policy: Policy
) -> tuple[str, dict[str, str]] | None:
    """Why the deal stays with its owner: never_move, unless, not from `from:`, already in `to`."""
    step = blocked(handoff, lead, owner)
    if step is not None:
        return f"handoff '{handoff.name}' kept the deal where it is", dict(step.params)
    if handoff.from_members is not None and owner not in handoff.from_members:
        members = ", ".join(sorted(handoff.from_members))
        return f"handoff '{handoff.name}' is only for deals of its `from:`; this one stays", {
            "owner": owner or "",
            "not_from": members,
        }
    if not handoff.reassign_always and owner in policy.pools[handoff.to].members:
        message = (
            f"the owner is already in pool '{handoff.to}': handoff '{handoff.name}' keeps the deal with them"
        )
        return message, {"in_pool": handoff.to, "owner": owner or ""}
    return None


def _hunter_field(
    handoff: Handoff, lead: Lead, policy: Policy, owner: ManagerKey | None
) -> tuple[CrmWrite, ...]:
    if not handoff.keep_hunter_in_field or owner is None or owner not in policy.managers:
        return ()
    name = policy.managers[owner].label
    return (CrmWrite(WriteKind.FIELD, lead.id, field_name=handoff.keep_hunter_in_field, field_value=name),)


def sla_settled(life: LeadLife, data: Mapping[str, str], lead: Lead) -> bool:
    """Whether an SLA timer has nothing left to do: the lead was worked on (its stage moved, or it
    closed) or changed hands since the timer was set. Known before it rings (`simulate` counts a
    timer due after its file's last row as in time by this)."""
    current = life.owner == data.get("holder") and str(len(life.sla_turns)) == data.get("turn")
    worked = place_of(lead) != data.get("stage_id") or life.closed is not None
    return not current or worked


def sla_rang(
    life: LeadLife, data: Mapping[str, str], lead: Lead, policy: Policy, state: RoutingState, now: datetime
) -> Steps:
    """Nobody worked the lead in time: the next member who never had it; every ring is a hop."""
    rule = sla(policy)
    holder = data.get("holder")
    if rule is None or sla_settled(life, data, lead):
        return life, (Note(AuditKind.SLA_OK, "the lead was worked on (or reassigned) in time"),)
    stop = blocked(rule, lead, holder)
    if stop is not None:
        message = f"SLA '{rule.name}' kept the lead where it is"
        return life, (Note(AuditKind.HANDOFF_BLOCKED, message, dict(stop.params), step=stop),)
    pool = data.get("pool") or life.pool or ""
    decision = reroute(lead, policy, state, now, rule, pool, life.sla_turns)
    if decision.outcome is not Outcome.ASSIGN or decision.assignee is None:
        message = "nobody can take the lead now; checking again later"
        return life, (
            Note(AuditKind.SLA_WAITING, message),
            SetTimer(JobKind.SLA, decision.wait_until or now + RETRY_WHEN_STUCK, dict(data)),
        )
    effect = Assign(decision, f"sla:{len(life.sla_turns)}", AuditKind.HANDOFF)
    after = _assigned(life, effect, policy)
    after = replace(after, sla_turns=(*life.sla_turns, decision.assignee))
    effects: tuple[Effect, ...] = (effect,)
    if decision.route is Route.POOL and rule.unworked_minutes:
        due = working_deadline(policy.managers[decision.assignee], now, rule.unworked_minutes)
        if due is not None:
            effects = (effect, _sla_timer(after, due, pool, lead))
    return after, effects


def owner_back(life: LeadLife, data: Mapping[str, str], lead: Lead, policy: Policy, now: datetime) -> Steps:
    """The owner is back: what the substitute still holds goes back, worked on or not."""
    owner, substitute = data.get("owner", ""), data.get("substitute", "")
    why = None
    if owner not in policy.managers:
        why, code = "the owner is no longer in the config", "owner_gone"
    elif life.closed is not None:
        why, code = f"the deal was {life.closed} meanwhile; it stays", "closed"
    elif life.owner != substitute:
        why, code = (
            "the lead is no longer with the substitute (handed over or reassigned); it stays",
            "moved_on",
        )
    elif data.get("only_untouched") and life.touched:
        why, code = "the substitute worked on it and only untouched leads return; it stays", "worked_on"
    elif "return" in life.done:
        why, code = "already returned", "done"
    if why is not None:
        step = Step(StepCode.RETURN_SKIPPED, {"manager": owner, "why": code})
        return life, (Note(AuditKind.RETURN_SKIPPED, why, {**data, "why": code}, step=step),)
    step = Step(StepCode.RETURN, {"manager": owner})
    decision = decide_for(lead, policy, now, owner, steps=(step,), route=Route.RETURN)
    effect = Assign(decision, "return", AuditKind.HANDOFF)
    return _assigned(life, effect, policy), (effect,)
