"""Leads' lives carried out in memory: the lifecycle's effects on a routing state, timers, clients.

`simulate` (a lead file with stage rows), what-if (the stored history) and the story tests drive
`core.lifecycle.step` through this, the way the worker drives it through the queue and the database:
events go in in time order, timers and waiting leads due before each event ring first, and every
effect lands in `history`. What-if gives each step the state it reads (`reading`: stored pauses and
loads), the client's holder with each lead (`own_clients` off), and when each timer rings (`ringing`:
when the worker really ran it).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from core.decide import apply_decision
from core.junk import carry_credit
from core.kinds import JobKind
from core.lifecycle import Transition, step
from core.lifecycle_types import (
    Arrived,
    Assign,
    ClientFollows,
    Credit,
    Effect,
    Event,
    LeadLife,
    Override,
    SetTimer,
    TimerRang,
    Updated,
    Wait,
)
from core.model import Lead, UserId
from core.policy import Policy
from core.state import RoutingState

MAX_WAITS = 100  # a lead still waiting after this many shifts is left waiting (nobody will come)
ARRIVE = "arrive"  # the heap's own kind: a new lead that waits for a shift


@dataclass(frozen=True, slots=True)
class Happened:
    """One effect of one event, when it happened, for which lead."""

    at: datetime
    lead_id: str
    event: Event
    effect: Effect


@dataclass
class Lives:
    """Every lead's life, the CRM as the lifecycle left it, and the timers still to ring."""

    policy: Policy
    state: RoutingState = field(default_factory=RoutingState)
    lives: dict[str, LeadLife] = field(default_factory=dict)
    leads: dict[str, Lead] = field(default_factory=dict)  # each lead as the CRM would show it now
    clients: dict[str, tuple[UserId, datetime]] = field(default_factory=dict)  # who holds each client
    history: list[Happened] = field(default_factory=list)
    waits: dict[str, int] = field(default_factory=dict)  # lead id → shifts waited so far
    reading: Callable[[RoutingState, datetime], RoutingState] | None = None  # the state a step reads
    own_clients: bool = True  # a lead's client holder from our own record (else as the lead says)
    ringing: Callable[[str, SetTimer], datetime | None] | None = None  # when a timer rings (None: never)
    _timers: list[tuple[datetime, int, str, str, Mapping[str, str]]] = field(default_factory=list)
    _order: int = 0

    def arrive(self, lead: Lead, now: datetime) -> Transition:
        """A new lead, with its client's holder as our own record has it (the CRM's only if unknown)."""
        self.leads[lead.id] = lead
        return self._feed(lead.id, Arrived(self._with_client(lead)), now)

    def stage(self, lead_id: str, now: datetime, **changes: object) -> Transition:
        """The lead moved (stage, pipeline, closed, price…): the lifecycle reads it as it is now."""
        lead = replace(self.leads[lead_id], **changes)  # type: ignore[arg-type]
        self.leads[lead_id] = lead
        return self._feed(lead_id, Updated(lead, now), now)

    def owner_changed(
        self, lead_id: str, user: UserId, now: datetime, at: datetime | None = None
    ) -> Transition:
        """A responsible change seen in the CRM (`at`: the CRM's time of it, when it differs). A late
        event (`at` before our last write) leaves the CRM as it is: its lead is only what it says."""
        lead = replace(self.leads[lead_id], responsible_user_id=user)
        if at is None or at >= now:
            self.leads[lead_id] = lead
        return self._feed(lead_id, Updated(lead, at or now), now)

    def told(
        self, lead: Lead, now: datetime, at: datetime | None = None, pending: bool = False
    ) -> Transition:
        """An update as the CRM told it (a stored one): the lifecycle reads the lead as given. The lead
        as the CRM shows it takes what it says: all of it if it was read, else its stage and responsible."""
        known = self.leads.get(lead.id)
        if known is None:
            self.leads[lead.id] = lead
        elif _only_state(lead):
            self.leads[lead.id] = replace(
                known, stage_id=lead.stage_id, responsible_user_id=lead.responsible_user_id
            )
        elif (known.client_owner, known.client_last_seen) == (lead.client_owner, lead.client_last_seen):
            self.leads[lead.id] = lead
        else:  # read whole; its client's holder stays the one it arrived with
            owner, seen = known.client_owner, known.client_last_seen
            self.leads[lead.id] = replace(lead, client_owner=owner, client_last_seen=seen)
        return self._feed(lead.id, Updated(lead, at, pending), now)

    def due(self, until: datetime) -> Iterator[tuple[datetime, str, Transition]]:
        """Ring every timer (and retry every waiting lead) due by `until`, earliest first."""
        while self._timers and self._timers[0][0] <= until:
            at, _, kind, lead_id, data = heapq.heappop(self._timers)
            lead = self.leads.get(lead_id)
            if kind == ARRIVE:
                assert lead is not None
                yield at, lead_id, self._feed(lead_id, Arrived(self._with_client(lead)), at)
            else:
                yield at, lead_id, self._feed(lead_id, TimerRang(JobKind(kind), data, lead), at)

    def waiting(self) -> Iterator[tuple[datetime, str, Transition]]:
        """Route every lead still waiting for a shift at its shift, however late; other timers stay."""
        later = [entry for entry in self._timers if entry[2] != ARRIVE]
        self._timers = [entry for entry in self._timers if entry[2] == ARRIVE]
        heapq.heapify(self._timers)
        try:
            while self._timers:
                entry = heapq.heappop(self._timers)
                at, _, kind, lead_id, _ = entry
                if kind != ARRIVE:  # set by a decision made here: it stays with the other timers
                    later.append(entry)
                    continue
                lead = self._with_client(self.leads[lead_id])
                yield at, lead_id, self._feed(lead_id, Arrived(lead), at)
        finally:
            self._timers = [*later, *self._timers]
            heapq.heapify(self._timers)

    def pending(self) -> list[tuple[datetime, str, str, Mapping[str, str]]]:
        """Timers that have not rung: (due, kind, lead id, data)."""
        return [(at, kind, lead_id, data) for at, _, kind, lead_id, data in sorted(self._timers)]

    def _feed(self, lead_id: str, event: Event, now: datetime) -> Transition:
        if self.reading is not None:
            self.state = self.reading(self.state, now)
        transition = step(self.lives.get(lead_id), event, self.policy, self.state, now)
        if transition.life is not None:
            self.lives[lead_id] = transition.life
        for effect in transition.effects:
            self._carry_out(lead_id, effect, now)
            self.history.append(Happened(now, lead_id, event, effect))
            if isinstance(effect, Credit):  # granted or refused against the week's credits, audited
                self.state, note = carry_credit(self.state, effect)
                self.history.append(Happened(now, lead_id, event, note))
        return transition

    def _carry_out(self, lead_id: str, effect: Effect, now: datetime) -> None:
        if isinstance(effect, Assign):
            self.state = apply_decision(self.state, effect.decision, self.policy)
            user = self.policy.managers[effect.decision.assignee or ""].crm_user_id
            self.leads[lead_id] = replace(self.leads[lead_id], responsible_user_id=user)
        elif isinstance(effect, Override):
            self.leads[lead_id] = replace(self.leads[lead_id], responsible_user_id=effect.user)
        elif isinstance(effect, ClientFollows):
            self.clients[effect.client_key] = (effect.user, now)
        elif isinstance(effect, SetTimer):
            at = effect.due if self.ringing is None else self.ringing(lead_id, effect)
            if at is not None:
                self._push(at, effect.kind.value, lead_id, effect.data)
        elif isinstance(effect, Wait):
            waited = self.waits[lead_id] = self.waits.get(lead_id, 0) + 1
            if effect.decision.wait_until is not None and waited < MAX_WAITS:
                self._push(effect.decision.wait_until, ARRIVE, lead_id, {})

    def _push(self, due: datetime, kind: str, lead_id: str, data: Mapping[str, str]) -> None:
        self._order += 1
        heapq.heappush(self._timers, (due, self._order, kind, lead_id, data))

    def _with_client(self, lead: Lead) -> Lead:
        if lead.client_key is None or not self.policy.continuity.enabled or not self.own_clients:
            return lead
        known = self.clients.get(lead.client_key)
        if known is None:
            return lead
        return replace(lead, client_owner=known[0], client_last_seen=known[1])

    def owner_of(self, lead_id: str) -> UserId | None:
        """The lead's responsible in the CRM as the run left it."""
        return self.leads[lead_id].responsible_user_id


def _only_state(lead: Lead) -> bool:
    """Whether an update's lead is only what its event said (id, stage id, responsible), not read."""
    if lead.name or lead.pipeline is not None or lead.stage is not None:
        return False  # read from the CRM (the quick answer, for most)
    bare = Lead(
        lead.id, lead.created_at, stage_id=lead.stage_id, responsible_user_id=lead.responsible_user_id
    )
    return lead == bare
