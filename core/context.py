"""One decision in the making (its inputs and reasoning steps), and continuity, which comes first.

Continuity: a repeat client goes back to their manager while that manager can take them, or to
the substitute of an absent one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.availability import Skip, SkipReason, unavailability
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.model import Lead, Manager
from core.policy import Policy
from core.state import RoutingState

# Reasons that still let continuity keep a repeat client with their manager (work waits till morning).
_CONTINUITY_TOLERATES = (SkipReason.OFF_HOURS, SkipReason.HOLIDAY)


class Context:
    """One decision's inputs and the reasoning steps gathered so far."""

    __slots__ = ("exclude", "lead", "now", "policy", "state", "steps")

    def __init__(
        self,
        lead: Lead,
        policy: Policy,
        state: RoutingState,
        now: datetime,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        self.lead, self.policy, self.state, self.now = lead, policy, state, now
        self.exclude = exclude
        self.steps: list[Step] = []

    def skip_of(self, manager: Manager) -> Skip | None:
        """Why this manager cannot take the lead now (None: they can)."""
        if manager.key in self.exclude:
            return Skip(manager.key, SkipReason.ALREADY_HAD)
        return unavailability(manager, self.now, self.state, self.policy.calendar)

    def step(self, code: StepCode, **params: str) -> None:
        """Record one reasoning step."""
        self.steps.append(Step(code, params))

    def decision(self, outcome: Outcome, **values: object) -> Decision:
        """The decision with the steps so far."""
        return Decision(
            lead_id=self.lead.id,
            outcome=outcome,
            decided_at=self.now,
            steps=tuple(self.steps),
            config_version=self.policy.version,
            **values,  # type: ignore[arg-type]
        )


def continuity(ctx: Context) -> Decision | None:
    """The decision keeping a repeat client with their manager (or the substitute), if it applies."""
    policy, lead = ctx.policy, ctx.lead
    if not policy.continuity.enabled or lead.client_owner is None:
        return None
    unless = policy.continuity.unless
    if unless is not None and unless.matches(lead):  # a repeat client who is now VIP: by the rules
        ctx.step(StepCode.CONTINUITY_UNLESS, condition=unless.describe())
        return None
    window = policy.continuity.within_days
    last_seen = lead.client_last_seen
    if window is not None and last_seen is not None and ctx.now - last_seen > timedelta(days=window):
        ctx.step(StepCode.CONTINUITY_EXPIRED, days=str(window))
        return None
    owner = policy.manager_for_user(lead.client_owner)
    if owner is None:
        ctx.step(StepCode.CONTINUITY_UNKNOWN, user_id=str(lead.client_owner))
        return None
    skip = ctx.skip_of(owner)
    if skip is None or skip.reason in _CONTINUITY_TOLERATES:
        ctx.step(StepCode.CONTINUITY_OWNER, manager=owner.key)
        return ctx.decision(Outcome.ASSIGN, assignee=owner.key, route=Route.CONTINUITY)
    return _substitute(ctx, owner, skip)


def _substitute(ctx: Context, owner: Manager, skip: Skip) -> Decision | None:
    sub = ctx.policy.managers.get(skip.substitute) if skip.substitute else None
    if skip.reason is SkipReason.ABSENT and sub is not None:
        sub_skip = ctx.skip_of(sub)
        if sub_skip is None or sub_skip.reason in _CONTINUITY_TOLERATES:
            ctx.step(StepCode.CONTINUITY_OWNER, manager=owner.key)
            return ctx.decision(Outcome.ASSIGN, assignee=sub.key, route=Route.SUBSTITUTE, skipped=(skip,))
    ctx.step(StepCode.CONTINUITY_UNAVAILABLE, manager=owner.key, reason=skip.reason.value)
    return None
