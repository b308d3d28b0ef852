"""What-if's replay: a period's stored history driven through the lead lifecycle on `Lives`.

In time order: each new lead's first decision input (`Arrived` at its decided_at, on what that
decision read: pauses, the pool's counters seeded from the period's first snapshot, loads), each
stored update (`Updated` at when it was handled: the lead as read, the CRM's time of the change,
whether our write was pending), and each real assignment after the first (a handoff, SLA re-route
or return: what really happened, for the loads and the comparison). Timers ring in between as the
config under test sets them — a timer the worker really ran (same lead, kind and data) when it ran
it, one it never ran not at all, a timer of the new config's own when it is due. Nothing is written
anywhere.

An update tells the responsible the CRM showed. Where that is who really held the lead (our own
write, echoed), the replay reads its own holder instead; any other name is a person's change, told
to the replay as it was — the core decides what it is, as for the worker.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime

from adapters.storage.history import RingKey, StoredEvent, StoredHandoff
from adapters.storage.inputs import StoredDecision
from core.decision import Route
from core.fairness import FairnessTracker
from core.lifecycle_types import Assign, ClientFollows, Note, Override, SetTimer, Wait
from core.model import Lead, ManagerKey, UserId
from core.overrides import apply_override
from core.policy import Policy
from core.state import Pause, PoolState, RoutingState
from core.worth import lead_value
from webhook_app.offline.lives import MAX_WAITS, Lives
from webhook_app.offline.simulate import Simulated
from webhook_app.offline.whatif_loads import Loads
from webhook_app.offline.whatif_real import PEOPLE, Owners, RealRun, handoff_name, replayed_rule
from webhook_app.pipeline.decision_input import lead_from_json, state_from_json

NEW = "new"
Item = StoredDecision | StoredEvent | StoredHandoff


class LifeReplay:
    """Feed a period's stored history in time order; the replay's new-lead decisions come back as
    they are made, and `leads` holds every lead's owners both ways."""

    def __init__(
        self,
        policy: Policy,
        actual_policy: Policy,
        rings: Mapping[RingKey, list[datetime | None]] | None = None,
    ) -> None:
        self.policy = policy
        self.lives = Lives(policy, reading=self._reading, own_clients=False, ringing=self._ringing)
        self._rings = {key: deque(times) for key, times in (rings or {}).items()}
        self.loads = Loads(policy)
        self.real = RealRun(actual_policy, self.loads)
        self.leads = self.real.leads  # every lead's owners, really and in the replay
        self.result_fairness = FairnessTracker(policy)
        self.would_rules: Counter[str] = Counter()
        self.would_handoffs: Counter[str] = Counter()
        self._paused: dict[ManagerKey, Pause] = {}
        self._seeds: dict[str, PoolState] = {}
        self._clients: dict[str, UserId] = {}  # who holds each client in the replay

    def run(
        self,
        decisions: Iterable[StoredDecision],
        events: Iterable[StoredEvent] = (),
        handoffs: Iterable[StoredHandoff] = (),
        until: datetime | None = None,
    ) -> Iterator[tuple[StoredDecision, Simulated]]:
        """Each new lead's replayed decision with its stored one, in the order the replay makes them;
        timers ring up to `until`, and leads still waiting for a shift are decided at it."""
        items: Iterator[tuple[datetime, int, int, Item]] = heapq.merge(
            ((d.decided_at, 0, d.assignment_id, d) for d in decisions),
            ((e.at, 1, e.id, e) for e in events),  # after a decision of the same moment: its own lead's
            ((h.decided_at, 2, h.id, h) for h in handoffs),  # after the update that caused it
        )
        for at, _, _, item in items:
            for _ in self.lives.due(at):
                yield from self._absorb()
            if isinstance(item, StoredDecision):
                self._arrive(item)
            elif isinstance(item, StoredEvent):
                self._told(item)
            else:
                self.real.handed(item)
            yield from self._absorb()
        if until is not None:
            for _ in self.lives.due(until):
                yield from self._absorb()
        for _ in self.lives.waiting():
            yield from self._absorb()

    def _reading(self, state: RoutingState, now: datetime) -> RoutingState:
        """The state a step reads: the replay's own pool counters (seeded from the first snapshot),
        the loads as the replay would have them, and the pauses stored with the latest decision."""
        pools = {**self._seeds, **state.pools} if self._seeds else state.pools
        return RoutingState(pools, self.loads.loads, self._paused, state.inactive)

    def _ringing(self, lead_id: str, timer: SetTimer) -> datetime | None:
        """When a timer rings: when the worker really ran the same one (same lead, kind and data; None
        if it never did), else when it is due."""
        real = self._rings.get((lead_id, timer.kind.value, frozenset(timer.data.items())))
        return real.popleft() if real else timer.due

    def _arrive(self, stored: StoredDecision) -> None:
        now = stored.decided_at
        snapshot = state_from_json(stored.state)
        self._paused = dict(snapshot.paused)
        for name, pool in snapshot.pools.items():
            self._seeds.setdefault(name, pool)  # the replay's own counters win once it has any
        for key, load in snapshot.loads.items():
            self.loads.stored(key, load, now)
        lead = lead_from_json(stored.lead)
        seen = self._client_as_replayed(lead)
        self.real.decided(stored, lead)
        self.lives.arrive(seen, now)

    def _client_as_replayed(self, lead: Lead) -> Lead:
        """The lead with its client's holder as the replay made it, where the real one came from us."""
        key = lead.client_key
        if key is None or lead.client_owner is None or self.real.clients.get(key) != lead.client_owner:
            return lead  # a new client, or its holder was set by someone else, or before the period
        would = self._clients.get(key)
        return lead if would is None or would == lead.client_owner else replace(lead, client_owner=would)

    def _told(self, event: StoredEvent) -> None:
        owners = self.leads.get(event.lead_id)
        if owners is None:  # a lead decided before the period: its life is not replayed
            return
        lead = lead_from_json(event.lead)
        life = self.lives.lives.get(event.lead_id)
        ours = self.real.told(owners, event, lead.responsible_user_id)
        if ours and life is not None and life.owner_user not in (None, lead.responsible_user_id):
            lead = replace(lead, responsible_user_id=life.owner_user)  # our holder, as replayed
        self.lives.told(lead, event.at, event.changed_at, event.write_pending)

    def _absorb(self) -> Iterator[tuple[StoredDecision, Simulated]]:
        """Take in what the steps so far did: loads, fairness, owners, clients; new leads' decisions."""
        for happened in self.lives.history:
            effect, lead_id = happened.effect, happened.lead_id
            owners = self.leads[lead_id]
            if isinstance(effect, Assign):
                decision = effect.decision
                assert decision.assignee is not None
                self.loads.replayed(decision.assignee, happened.at)
                self.result_fairness.record(decision, self.lives.leads.get(lead_id))
                owners.would.append(decision.assignee)
                owners.last = decision
                if effect.purpose == NEW:
                    owners.first = decision
                    self.would_rules[replayed_rule(decision)] += 1
                    yield owners.stored, Simulated(self.lives.leads[lead_id], decision)
                else:
                    self.would_handoffs[handoff_name(effect.purpose, self.policy)] += 1
            elif isinstance(effect, Wait):
                decision = effect.decision
                if decision.wait_until is None or self.lives.waits[lead_id] >= MAX_WAITS:
                    owners.first = owners.last = decision  # nobody will ever take it
                    yield owners.stored, Simulated(self.lives.leads[lead_id], decision)
            elif isinstance(effect, ClientFollows):
                self._clients[effect.client_key] = effect.user
            elif isinstance(effect, Override):
                self._replayed_override(owners, effect, happened.at)
            elif isinstance(effect, Note):
                self.result_fairness.noted(effect)  # a junk credit granted in the replay
        self.lives.history.clear()

    def _replayed_override(self, owners: Owners, effect: Override, now: datetime) -> None:
        """A person's change in the replay: counted, and moved in the share if the config says so."""
        self.would_handoffs[PEOPLE] += 1
        first = owners.first
        if not self.policy.count_overrides or first is None or first.route is not Route.POOL:
            return
        if first.pool is None or effect.previous == effect.manager:
            return
        state = self.lives.state
        lead = self.lives.leads.get(first.lead_id)
        pool = self.policy.pools.get(first.pool)
        worth = lead_value(lead, pool.value) if lead is not None and pool is not None else 0.0
        moved = apply_override(
            state,
            self.policy,
            first.pool,
            effect.previous,
            effect.manager,
            first.decided_at,
            now,
            value=worth,
            tier=first.detail.get("tier"),
        )
        self.lives.state = replace(state, pools=moved.pools)
        self.loads.share_moved(effect.previous, effect.manager, first.decided_at, now, real=False)
