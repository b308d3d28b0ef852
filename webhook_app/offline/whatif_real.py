"""What really happened to the leads a what-if replays: each one's assignments in order and who held
it in the CRM, who held each client, and the rule, handoff and fairness counts of the real run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from adapters.storage.history import StoredEvent, StoredHandoff
from adapters.storage.inputs import StoredDecision
from core.decision import Decision, Route
from core.fairness import UNTARGETED, FairnessTracker
from core.handoff import sla
from core.model import Lead, ManagerKey, UserId
from core.policy import Policy
from webhook_app.offline.whatif_loads import Loads

NO_RULE = "(no rule)"
CONTINUITY = "(continuity)"
PEOPLE = "(person's change)"  # a responsible changed by hand in the CRM, among the handoffs


def actual_rule(stored: StoredDecision) -> str:
    """The rule a stored decision names, with continuity and rule-less fallbacks labelled."""
    if stored.route == Route.CONTINUITY.value:
        return CONTINUITY
    return stored.rule or NO_RULE


def replayed_rule(decision: Decision) -> str:
    """The rule of a replayed decision, labelled like `actual_rule`."""
    if decision.route is Route.CONTINUITY:
        return CONTINUITY
    return decision.rule or NO_RULE


def handoff_name(purpose: str, policy: Policy) -> str:
    """What an assignment after the first is, as the comparison counts it: the handoff's name."""
    if purpose.startswith("sla:"):
        rule = sla(policy)
        return rule.name if rule is not None else "sla"
    return purpose


@dataclass
class Owners:
    """One lead's owners: really (our assignments in order, who holds it in the CRM) and replayed."""

    stored: StoredDecision
    client: str | None
    real: list[ManagerKey]
    real_user: UserId
    written_at: datetime  # our last real write of its responsible
    would: list[ManagerKey] = field(default_factory=list)
    first: Decision | None = None  # the replay's decision for the new lead (or its last wait)
    last: Decision | None = None  # the replay's latest decision: its reason is shown


class RealRun:
    """The real side of a replay, fed the same stored history in the same order."""

    def __init__(self, policy: Policy, loads: Loads) -> None:
        self.policy, self.loads = policy, loads
        self.leads: dict[str, Owners] = {}
        self.fairness = FairnessTracker(policy)
        self.rules: Counter[str] = Counter()
        self.handoffs: Counter[str] = Counter()
        self.clients: dict[str, UserId] = {}  # who really holds each client, as far as the period tells

    def decided(self, stored: StoredDecision, lead: Lead) -> Owners:
        """A new lead's real decision."""
        now = stored.decided_at
        owners = Owners(stored, lead.client_key, [stored.manager], stored.crm_user_id, now)
        self.leads[stored.lead_id] = owners
        self.loads.real(stored.manager, now)
        self.rules[actual_rule(stored)] += 1
        if stored.route == Route.POOL.value and stored.pool is not None:
            self.fairness.count(stored.pool, stored.manager, self.fairness.value_of(stored.pool, lead))
        parked = stored.route == Route.POOL.value and stored.strategy in UNTARGETED
        if lead.client_key is not None and not parked:  # a head or claim user holds no client
            self.clients[lead.client_key] = stored.crm_user_id
        return owners

    def handed(self, handoff: StoredHandoff) -> None:
        """A real assignment after the first (a lead decided before the period is not followed)."""
        owners = self.leads.get(handoff.lead_id)
        if owners is None:
            return
        owners.real.append(handoff.manager)
        owners.real_user, owners.written_at = handoff.crm_user_id, handoff.decided_at
        self.loads.real(handoff.manager, handoff.decided_at)
        if handoff.route == Route.POOL.value and handoff.pool is not None:
            self.fairness.count(handoff.pool, handoff.manager)
        if owners.client is not None:
            self.clients[owners.client] = handoff.crm_user_id
        self.handoffs[handoff_name(handoff.purpose, self.policy)] += 1

    def told(self, owners: Owners, event: StoredEvent, user: UserId | None) -> bool:
        """An update naming `user` responsible: True if that is who really held the lead (our own
        write); else, if it was a person's change in the real run, it is counted and followed."""
        if user is None or user == owners.real_user:
            return user is not None
        late = event.changed_at is not None and event.changed_at < owners.written_at
        if event.write_pending or late:  # stale, as `core.lifecycle` judges a person's change
            return False
        previous, owners.real_user = owners.real_user, user
        self.handoffs[PEOPLE] += 1
        if owners.client is not None:
            self.clients[owners.client] = user
        stored = owners.stored
        if self.policy.count_overrides and stored.route == Route.POOL.value and stored.pool:
            by_user = self.policy.by_user_id
            moved = (by_user.get(previous), by_user.get(user), stored.decided_at, event.at)
            self.loads.share_moved(*moved, real=True)
        return False
