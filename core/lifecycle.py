"""A lead's whole life as one pure transition: `step(life, event, policy, state, now) → (life, effects)`.

The worker, `simulate` and what-if are drivers of this one function: they turn what they read (the
queue, a lead file, stored history) into events, and carry the effects out (durably, in memory, or
not at all). None of them decides anything itself, so the three cannot drift apart.

    events   Arrived (a new lead) · Updated (the CRM says it changed: a stage move, a person's change,
             our own echo, or a late event) · TimerRang (SLA, N days in a stage, owner back) · Deleted
    effects  Assign (a decision to record and write) · Wait (a new lead waits for a shift) · SetTimer
             · Note (an audit line) · ClientFollows (who holds the client now) · Override (a person's change)
             · Cancel (the lead is gone: its pending work is dropped)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from core.decide import decide
from core.decision import Decision, Outcome, Route
from core.fairness import UNTARGETED
from core.handoff import place_of
from core.handoff_steps import handoff_on_stage, handoff_timer, owner_back, sla_rang, timers_after_decision
from core.junk import junk_due, share_of
from core.kinds import AuditKind, JobKind
from core.lifecycle_types import (
    Arrived,
    Assign,
    Cancel,
    ClientFollows,
    Deleted,
    Effect,
    Event,
    LeadLife,
    Note,
    Override,
    TimerRang,
    Updated,
    Wait,
)
from core.model import Lead
from core.policy import Policy
from core.refused import owner_refused
from core.state import RoutingState

__all__ = ["Transition", "apply_assign", "step"]


@dataclass(frozen=True, slots=True)
class Transition:
    """The lead's life after an event, and what must be done about it, in order."""

    life: LeadLife | None
    effects: tuple[Effect, ...] = field(default_factory=tuple)


def step(
    life: LeadLife | None, event: Event, policy: Policy, state: RoutingState, now: datetime
) -> Transition:
    """The one transition of a lead's life (pure: time, state and the lead as read come in)."""
    if isinstance(event, Arrived):
        return _arrived(life, event.lead, policy, state, now)
    if isinstance(event, Deleted):
        return _deleted(life, event)
    if life is None or life.owner_user is None:
        return Transition(life, (Note(AuditKind.IGNORED, "update for a lead we did not route"),))
    if isinstance(event, Updated):
        return _updated(life, event, policy, state, now)
    assert isinstance(event, TimerRang)
    return _timer(life, event, policy, state, now)


def apply_assign(life: LeadLife, effect: Assign, policy: Policy, lead: Lead) -> LeadLife:
    """The life once an assignment is recorded: the new holder, and who held it before."""
    manager = policy.managers[effect.decision.assignee or ""]
    return replace(
        life,
        owner=manager.key,
        owner_user=manager.crm_user_id,
        done=life.done | {effect.purpose},
        written_at=effect.decision.decided_at,
        client_key=lead.client_key or life.client_key,
    )


def _arrived(
    life: LeadLife | None, lead: Lead, policy: Policy, state: RoutingState, now: datetime
) -> Transition:
    if life is not None and life.owner_user is not None:
        return Transition(
            life, (Note(AuditKind.ALREADY_DECIDED, "lead already has an owner; not decided again"),)
        )
    decision = decide(lead, policy, state, now)
    if decision.outcome is Outcome.WAIT:
        return Transition(life, (Wait(decision),))
    fresh = LeadLife(
        lead.id,
        pool=decision.pool,
        pipeline=lead.pipeline,
        stage=lead.stage,
        place=place_of(lead),
        share=share_of(lead, decision, policy),
    )
    effect = Assign(decision, "new", AuditKind.DECISION)
    born = apply_assign(fresh, effect, policy, lead)
    born, timers = timers_after_decision(born, decision, lead, policy, now)
    parked = decision.route is Route.POOL and decision.strategy in UNTARGETED
    return Transition(born, (effect, *_follows(born, lead, parked=parked), *timers))


def _deleted(life: LeadLife | None, event: Deleted) -> Transition:
    """The lead is gone from the CRM: closed as deleted (as won and lost are closed), its pending work
    dropped. A lead we never routed has no life to close; its queued work goes all the same."""
    if life is not None and life.closed == "deleted":
        note = Note(AuditKind.IGNORED, "lead already recorded as deleted", {"source": event.source})
        return Transition(life, (note, Cancel(event.source, first=False)))
    gone = replace(life, closed="deleted") if life is not None else None
    return Transition(gone, (Cancel(event.source),))


def _follows(life: LeadLife, lead: Lead | None, *, parked: bool = False) -> tuple[Effect, ...]:
    """The client follows the deal: whoever holds it now holds the client (for continuity, reports).
    A lead parked on a claim user or a manual pool's head says nothing yet of who holds the client."""
    key = (lead.client_key if lead is not None else None) or life.client_key
    if key is None or life.owner_user is None or parked:
        return ()
    return (ClientFollows(key, life.owner, life.owner_user),)


def _updated(
    life: LeadLife, event: Updated, policy: Policy, state: RoutingState, now: datetime
) -> Transition:
    """Whatever the CRM says changed: first a person's change of the responsible (a handoff the same
    save triggers must see who holds the deal), then a stage move."""
    lead = event.lead
    effects: list[Effect] = []
    if life.closed == "deleted":  # restored in the CRM (amoCRM's trash): it lives on as it is now
        life = replace(life, closed=None)
        effects.append(Note(AuditKind.RESTORED, "lead restored in the CRM after its deletion"))
    if lead.responsible_user_id is not None and lead.responsible_user_id != life.owner_user:
        changed = _owner_changed(life, event, policy)
        life, effects = changed.life or life, [*effects, *changed.effects]
    if place_of(lead) != life.place:
        moved = _stage_moved(life, lead, policy, state, now)
        life, effects = moved.life or life, [*effects, *moved.effects]
    elif life.closed == "lost" and life.share is not None:
        # The reason given by a later edit of the lost deal (a person closes it, then picks why).
        credit = junk_due(life, lead, policy, now)
        if credit is not None:
            life, effects = replace(life, share=None), [*effects, credit]
    if not effects:
        effects = [Note(AuditKind.ECHO, "echo of our own write (or no change we act on)")]
    return Transition(life, tuple(effects))


def _stage_moved(
    life: LeadLife, lead: Lead, policy: Policy, state: RoutingState, now: datetime
) -> Transition:
    before = (life.pipeline, life.stage)
    moved = replace(life, pipeline=lead.pipeline, stage=lead.stage, place=place_of(lead), touched=True)
    effects: list[Effect] = [
        Note(
            AuditKind.STAGE_CHANGED,
            f"stage {before[1]} → {lead.stage}",
            {"stage_before": before[1], "stage": lead.stage, "pipeline": lead.pipeline},
        )
    ]
    if lead.closed in ("won", "lost") and life.closed is None:
        moved = replace(moved, closed=lead.closed)
        kind = AuditKind.WON if lead.closed == "won" else AuditKind.LOST
        detail = {"amount": lead.price or 0, "source": lead.source, "hunter": life.hunter}
        effects.append(Note(kind, f"deal {lead.closed}", detail, manager=life.owner))
    credit = junk_due(moved, lead, policy, now)
    if credit is not None:  # one credit per lead: its share is gone either way
        moved = replace(moved, share=None)
        effects.append(credit)
    after, more = handoff_on_stage(moved, before, lead, policy, state, now)
    if after.owner_user != moved.owner_user:
        more = (*more, *_follows(after, lead))
    return Transition(after, (*effects, *more))


def _owner_changed(life: LeadLife, event: Updated, policy: Policy) -> Transition:
    """A person's change only when it is newer than our last write and names someone else."""
    user = event.lead.responsible_user_id
    assert user is not None
    late = event.at is not None and life.written_at is not None and event.at < life.written_at
    if event.write_pending or late:
        message = "a late event from before our last write; the responsible stays ours"
        return Transition(life, (Note(AuditKind.STALE, message, {"user": user}),))
    manager = policy.manager_for_user(user)
    changed = replace(life, owner=manager.key if manager else None, owner_user=user)
    override = Override(life.owner, life.owner_user, changed.owner, user)
    return Transition(changed, (override, *_follows(changed, event.lead)))


def _timer(
    life: LeadLife, event: TimerRang, policy: Policy, state: RoutingState, now: datetime
) -> Transition:
    data: Mapping[str, str] = event.data
    lead = event.lead
    if lead is None:
        return Transition(life, (Note(AuditKind.LEAD_MISSING, "lead no longer exists in the CRM"),))
    if event.kind is JobKind.SLA:
        after, effects = sla_rang(life, data, lead, policy, state, now)
    elif event.kind is JobKind.AFTER_DAYS:
        after, effects = handoff_timer(life, data, lead, policy, state, now)
    elif event.kind is JobKind.REROUTE:
        after, effects = owner_refused(life, data, lead, policy, state, now)
    else:
        after, effects = owner_back(life, data, lead, policy, now)
    if after.owner_user != life.owner_user:
        effects = (*effects, *_follows(after, lead))
    return Transition(after, effects)


def first_decision(transition: Transition) -> Decision | None:
    """The decision an event led to, if any (for drivers that report decisions)."""
    return next((e.decision for e in transition.effects if isinstance(e, Assign | Wait)), None)
