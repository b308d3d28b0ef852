"""The CRM refused the owner we wrote (deactivated or fired since the decision): route the lead again.

Never a dead letter: the refused person is out (inactive) for this decision, as they are for every
decision after it once the shell records them; the lead goes through its pool again (or, when it
came by continuity or a fallback, through the rules), and the reason says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from core.decide import decide, decide_in_pool
from core.decision import Outcome, Step, StepCode
from core.handoff_steps import timers_after_decision
from core.kinds import AuditKind, JobKind
from core.lifecycle_types import Assign, Effect, LeadLife, Note, SetTimer
from core.model import Lead
from core.policy import Policy
from core.state import RoutingState

RETRY_WHEN_STUCK = timedelta(hours=1)
PURPOSE = "refused"


def owner_refused(
    life: LeadLife, data: Mapping[str, str], lead: Lead, policy: Policy, state: RoutingState, now: datetime
) -> tuple[LeadLife, tuple[Effect, ...]]:
    """Route the lead again without the refused user, unless it has moved on meanwhile."""
    user = data.get("user", "")
    if str(life.owner_user) != user or life.closed is not None:
        message = "the lead is no longer with the refused user; it stays"
        return life, (Note(AuditKind.OWNER_REFUSED, message, dict(data)),)
    refused = policy.by_user_id.get(int(user)) if user.isdigit() else None
    gone = frozenset({refused}) if refused else frozenset()
    without = replace(state, inactive=state.inactive | gone)
    step = Step(StepCode.OWNER_REFUSED, {"manager": refused or f"id {user}"})
    pool = data.get("pool") or ""
    if pool in policy.pools:
        decision = decide_in_pool(lead, policy, without, now, pool, exclude=gone, steps=(step,))
    else:
        decision = decide(lead, policy, without, now)
        decision = replace(decision, steps=(step, *decision.steps))
    again = decision.assignee is not None and decision.assignee in gone  # a fallback naming them
    if decision.outcome is not Outcome.ASSIGN or decision.assignee is None or again:
        message = "nobody can take the lead now; routing it again later"
        if again:
            message = "the only fallback is the refused user; routing it again later (fix the fallback)"
        due = decision.wait_until or now + RETRY_WHEN_STUCK
        return life, (
            Note(AuditKind.OWNER_REFUSED, message, dict(data)),
            SetTimer(JobKind.REROUTE, due, data),
        )
    turn = sum(1 for purpose in life.done if purpose.startswith(f"{PURPOSE}:"))
    effect = Assign(decision, f"{PURPOSE}:{turn}", AuditKind.DECISION)
    manager = policy.managers[decision.assignee]
    after = replace(
        life,
        owner=manager.key,
        owner_user=manager.crm_user_id,
        done=life.done | {effect.purpose},
        written_at=decision.decided_at,
        pool=decision.pool or life.pool,
    )
    after, timers = timers_after_decision(after, decision, lead, policy, now)
    return after, (effect, *timers)
