"""The what-if runner: past leads through the real `decide`, in time order, from an empty state.

It plays the worker's part: a lead that must wait for a shift is decided again at `wait_until`
(waiting leads are merged with the incoming ones in time order), each assignment updates the
routing state, and repeat clients carry their simulated manager like the CRM would (our own record
of who holds a client wins over the file's `owner`, as in `offline/lives.py`). Open-lead
counters only grow here (no lead is ever closed), so `max_open` caps and `least_loaded` read
"leads received since the start of the run".
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from core.decide import apply_decision, decide
from core.decision import Decision, Outcome, Route
from core.fairness import UNTARGETED, FairnessTracker
from core.matcher import UNMATCHED
from core.model import Lead, UserId
from core.policy import Matched, Policy
from core.state import RoutingState
from core.values import quick_init

_LEAD_FIELDS = tuple(f.name for f in dataclasses.fields(Lead))
_lead_values = attrgetter(*_LEAD_FIELDS)
_OWNER, _LAST_SEEN = _LEAD_FIELDS.index("client_owner"), _LEAD_FIELDS.index("client_last_seen")


def _with_client(lead: Lead, owner: int, last_seen: datetime) -> Lead:
    """`dataclasses.replace(lead, client_owner=…, client_last_seen=…)` at a fifth of its cost."""
    values = list(_lead_values(lead))
    values[_OWNER], values[_LAST_SEEN] = owner, last_seen
    return Lead(*values)


_ROUTE_NAMES: dict[Route | None, str] = {route: route.value for route in Route}  # `.value`: a Python property

# A lead still waiting after this many attempts is reported as waiting (nobody will ever come).
MAX_ATTEMPTS = 100


@quick_init
@dataclass(frozen=True, slots=True)
class Simulated:
    """One lead's final decision: assigned, or still waiting when the run gave up on it."""

    lead: Lead
    decision: Decision


class Simulation:
    """Routing state, client owners and waiting leads of one run; feed it leads in time order."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.state = RoutingState()
        self.fairness = FairnessTracker(policy)
        self.waited = 0  # leads that waited for a shift at least once
        self.routes: Counter[str] = Counter()  # final decisions by route ("wait": never assigned)
        self._clients: dict[str, tuple[UserId, datetime]] = {}  # client key → (holder, when)
        self._waiting: list[tuple[datetime, int, int, Lead, Matched]] = []  # (until, order, attempts, …)
        self._order = 0

    def run(self, leads: Iterable[Lead]) -> Iterator[Simulated]:
        """Final decisions in the order they are made, then those of leads left waiting."""
        return self.run_matched((lead, UNMATCHED) for lead in leads)

    def run_matched(self, items: Iterable[tuple[Lead, Matched]]) -> Iterator[Simulated]:
        """`run` over leads paired with their first matching rule, when the reader already has it."""
        waiting = self._waiting
        for lead, matched in items:
            while waiting and waiting[0][0] <= lead.created_at:
                yield from self._retry()
            done = self._decide(lead, lead.created_at, 1, matched)
            if done is not None:
                yield done
        while waiting:
            yield from self._retry()

    def _retry(self) -> Iterator[Simulated]:
        until, _, attempts, lead, matched = heapq.heappop(self._waiting)
        done = self._decide(lead, until, attempts + 1, matched)
        if done is not None:
            yield done

    def _decide(self, lead: Lead, now: datetime, attempt: int, matched: Matched) -> Simulated | None:
        # The rules never read the client's owner, so a match made on the file's lead still holds.
        decision = decide(self._with_client(lead), self.policy, self.state, now, matched=matched)
        if decision.outcome is Outcome.WAIT:
            if decision.wait_until is not None and attempt < MAX_ATTEMPTS:
                if attempt == 1:
                    self.waited += 1
                self._order += 1
                heapq.heappush(self._waiting, (decision.wait_until, self._order, attempt, lead, matched))
                return None
            self.routes["wait"] += 1
            return Simulated(lead, decision)
        self.routes[_ROUTE_NAMES.get(decision.route, "pool")] += 1
        self.state = apply_decision(self.state, decision, self.policy)
        self.fairness.record(decision, lead)
        self._remember(lead, decision)
        return Simulated(lead, decision)

    def _with_client(self, lead: Lead) -> Lead:
        """The lead with its client's holder as our own record has it (the file's `owner` only when
        the run has none), like `Lives` gives it to the lifecycle."""
        if not self.policy.continuity.enabled or lead.client_key is None:
            return lead
        known = self._clients.get(lead.client_key)
        if known is None:
            return lead
        return _with_client(lead, known[0], known[1])

    def _remember(self, lead: Lead, decision: Decision) -> None:
        # The client follows the deal, except that manual and claim pools park the lead on a head
        # or a pool user: the real owner is picked by people later, so that says nothing of the client.
        if lead.client_key is None or decision.assignee is None:
            return
        if decision.route is Route.POOL and decision.strategy in UNTARGETED:
            return
        user = self.policy.managers[decision.assignee].crm_user_id
        self._clients[lead.client_key] = (user, decision.decided_at)
