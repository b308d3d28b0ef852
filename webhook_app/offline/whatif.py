"""What-if: stored new-lead decisions replayed through the real `decide` under another config.

Each lead is decided at the moment it really was, on what that decision read (kept in
`decision_inputs`): the lead as the CRM gave it and who was paused. Counters evolve with the
replay's own choices, seeded from what was stored, so a replay under the config that really ran
gives back what really happened, and a new config shows only its own differences:

- a pool's counters start from the first stored snapshot that has them;
- a manager's loads are the stored ones, moved by the difference between the replay's assignments
  and the real ones so far (leads closed meanwhile are in the stored figures, not guessed);
- a repeat client whose earlier lead the replay gave to someone else follows that someone.

Nothing is written anywhere: no CRM call, no database write. Handoffs are not replayed.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from adapters.storage.inputs import StoredDecision, count_history, read_history
from core.decide import decide
from core.decision import Decision, Outcome, Route
from core.fairness import UNTARGETED, FairnessTracker, PoolFairness
from core.model import Lead, ManagerKey
from core.policy import Policy
from core.reasons import Renderer
from core.state import ManagerLoad, Pause, PoolState, RoutingState
from webhook_app.offline.simulate import MAX_ATTEMPTS, Simulated
from webhook_app.pipeline.decision_input import lead_from_json, state_from_json

NO_RULE = "(no rule)"
CONTINUITY = "(continuity)"
SHOWN_CHANGES = 500  # changed leads kept for display; all are counted


@dataclass(frozen=True, slots=True)
class Change:
    """A lead that would have gone to someone else (`would` None: it would still be waiting)."""

    crm: str
    lead_id: str
    decided_at: datetime
    actual: str
    would: str | None
    actual_rule: str
    would_rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class RuleHits:
    """How many leads a rule routed, really and in the replay."""

    rule: str
    actual: int
    would: int


@dataclass
class WhatIf:
    """The comparison: how many leads change owner, fairness both ways, rule hits both ways."""

    since: datetime
    until: datetime
    actual_version: str
    new_version: str
    leads: int = 0
    changed: int = 0
    waiting: int = 0  # leads the new config would never have assigned within the replay
    purged: int = 0  # leads replayed with personal data already blanked by retention
    changes: list[Change] = field(default_factory=list)
    actual_fairness: list[PoolFairness] = field(default_factory=list)
    would_fairness: list[PoolFairness] = field(default_factory=list)
    rules: list[RuleHits] = field(default_factory=list)


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


class _Loads:
    """Each manager's load as the replay would have it: stored figures moved by the difference."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.loads: dict[ManagerKey, ManagerLoad] = {}
        self._base: dict[ManagerKey, ManagerLoad] = {}
        self._delta: Counter[ManagerKey] = Counter()  # replay − real assignments, whole run
        self._day_delta: Counter[tuple[ManagerKey, date]] = Counter()
        self._since_base: Counter[ManagerKey] = Counter()  # real assignments since the stored figure
        self._day_since_base: dict[ManagerKey, Counter[date]] = {}

    def day(self, key: ManagerKey, moment: datetime) -> date:
        manager = self.policy.managers.get(key)
        return moment.astimezone(manager.tz if manager else self.policy.tz).date()

    def stored(self, key: ManagerKey, load: ManagerLoad, now: datetime) -> None:
        """A decision's snapshot gave the real load of `key` just before it."""
        base = self._base.get(key)
        if base is not None and load.day is not None:
            days = self._day_since_base.get(key) or Counter()
            today = base.count_on(load.day) + days[load.day]
            if load.open == base.open + self._since_base[key] and load.today == today:
                return  # what we already had: most snapshots repeat it (nothing closed meanwhile)
        self._base[key] = load
        self._since_base[key] = 0
        self._day_since_base[key] = Counter()
        self._refresh(key, now)

    def real(self, key: ManagerKey, now: datetime) -> None:
        """The real decision gave `key` a lead at `now`."""
        day = self.day(key, now)
        self._delta[key] -= 1
        self._day_delta[key, day] -= 1
        self._since_base[key] += 1
        self._day_since_base.setdefault(key, Counter())[day] += 1
        self._refresh(key, now)

    def replayed(self, key: ManagerKey, now: datetime) -> None:
        """The replay gave `key` a lead at `now`."""
        self._delta[key] += 1
        self._day_delta[key, self.day(key, now)] += 1
        self._refresh(key, now)

    def _refresh(self, key: ManagerKey, now: datetime) -> None:
        day = self.day(key, now)
        base = self._base.get(key) or ManagerLoad()
        since = self._day_since_base.get(key)
        today = base.count_on(day) + (since[day] if since else 0) + self._day_delta[key, day]
        opened = base.open + self._since_base[key] + self._delta[key]
        self.loads[key] = ManagerLoad(day=day, today=max(today, 0), open=max(opened, 0))


class Replay:
    """Feed stored decisions in time order; get the replayed ones back as they are decided."""

    def __init__(self, policy: Policy, actual_policy: Policy) -> None:
        self.policy = policy
        self.result_fairness = FairnessTracker(policy)
        self.actual_fairness = FairnessTracker(actual_policy)
        self.actual_rules: Counter[str] = Counter()
        self.would_rules: Counter[str] = Counter()
        self._loads = _Loads(policy)
        self._pools: dict[str, PoolState] = {}
        self._paused: dict[ManagerKey, Pause] = {}
        self._clients: dict[str, tuple[int, ManagerKey]] = {}  # client → (real owner id, replay owner)
        self._waiting: list[tuple[datetime, int, int, Lead, StoredDecision]] = []
        self._order = 0

    def run(self, history: Iterable[StoredDecision]) -> Iterator[tuple[StoredDecision, Simulated]]:
        """Each stored decision with its replayed one, in the order the replay decides them."""
        for stored in history:
            while self._waiting and self._waiting[0][0] <= stored.decided_at:
                yield from self._retry()
            yield from self._feed(stored)
        while self._waiting:
            yield from self._retry()

    def _feed(self, stored: StoredDecision) -> Iterator[tuple[StoredDecision, Simulated]]:
        now = stored.decided_at
        snapshot = state_from_json(stored.state)
        self._paused = dict(snapshot.paused)
        for name, pool in snapshot.pools.items():
            self._pools.setdefault(name, pool)  # the replay's own counters win once it has any
        for key, load in snapshot.loads.items():
            self._loads.stored(key, load, now)
        lead = lead_from_json(stored.lead)
        self._count_real(stored)
        yield from self._decide(lead, stored, now, 1)

    def _count_real(self, stored: StoredDecision) -> None:
        self._loads.real(stored.manager, stored.decided_at)
        self.actual_rules[actual_rule(stored)] += 1
        if stored.route == Route.POOL.value and stored.pool is not None:
            self.actual_fairness.count(stored.pool, stored.manager)

    def _retry(self) -> Iterator[tuple[StoredDecision, Simulated]]:
        until, _, attempts, lead, stored = heapq.heappop(self._waiting)
        yield from self._decide(lead, stored, until, attempts + 1)

    def _decide(
        self, lead: Lead, stored: StoredDecision, now: datetime, attempt: int
    ) -> Iterator[tuple[StoredDecision, Simulated]]:
        state = RoutingState(pools=self._pools, loads=self._loads.loads, paused=self._paused)
        seen = self._as_replayed(lead)
        decision = decide(seen, self.policy, state, now)
        if decision.outcome is Outcome.WAIT:
            if decision.wait_until is not None and attempt < MAX_ATTEMPTS:
                self._order += 1
                heapq.heappush(self._waiting, (decision.wait_until, self._order, attempt, lead, stored))
                return
            yield stored, Simulated(seen, decision)
            return
        assignee = decision.assignee
        assert assignee is not None
        if decision.pool is not None and decision.pool_state is not None:
            self._pools[decision.pool] = decision.pool_state
        self._loads.replayed(assignee, now)
        self.would_rules[replayed_rule(decision)] += 1
        self.result_fairness.record(decision)
        self._remember(lead, stored, decision)
        yield stored, Simulated(seen, decision)

    def _as_replayed(self, lead: Lead) -> Lead:
        """The lead with its client's owner as the replay made it, where the real one came from us."""
        if lead.client_key is None or lead.client_owner is None:
            return lead
        known = self._clients.get(lead.client_key)
        if known is None or known[0] != lead.client_owner:
            return lead  # the client's owner was set by someone else, or before the period
        manager = self.policy.managers.get(known[1])
        return replace(lead, client_owner=manager.crm_user_id) if manager is not None else lead

    def _remember(self, lead: Lead, stored: StoredDecision, decision: Decision) -> None:
        if lead.client_key is None or decision.assignee is None:
            return
        if decision.route is Route.POOL and decision.strategy in UNTARGETED:
            return  # parked on a head or a claim user: people pick the real owner later
        real = self.policy.managers.get(stored.manager)
        if real is not None:
            self._clients[lead.client_key] = (real.crm_user_id, decision.assignee)


def compare(
    history: Iterable[StoredDecision],
    policy: Policy,
    actual_policy: Policy,
    since: datetime,
    until: datetime,
    *,
    reason: Callable[[Decision], str],
    on_progress: Callable[[int], None] = lambda done: None,
) -> WhatIf:
    """Replay `history` under `policy` and compare it with what really happened (under
    `actual_policy`, the config in force, for the real fairness table)."""
    replay = Replay(policy, actual_policy)
    result = WhatIf(since, until, actual_policy.version, policy.version)
    for stored, item in replay.run(history):
        result.leads += 1
        result.purged += stored.purged
        decision = item.decision
        would = decision.assignee if decision.outcome is Outcome.ASSIGN else None
        if would is None:
            result.waiting += 1
        if would != stored.manager:
            result.changed += 1
            if len(result.changes) < SHOWN_CHANGES:
                result.changes.append(
                    Change(
                        crm=stored.crm,
                        lead_id=stored.lead_id,
                        decided_at=stored.decided_at,
                        actual=stored.manager,
                        would=would,
                        actual_rule=actual_rule(stored),
                        would_rule=replayed_rule(decision),
                        reason=reason(decision),
                    )
                )
        if result.leads % 1000 == 0:
            on_progress(result.leads)
    on_progress(result.leads)
    result.actual_fairness = replay.actual_fairness.report()
    result.would_fairness = replay.result_fairness.report()
    names = list(dict.fromkeys([*(r.name for r in policy.rules), *replay.actual_rules, *replay.would_rules]))
    result.rules = [RuleHits(n, replay.actual_rules[n], replay.would_rules[n]) for n in names]
    return result


def run_whatif(
    engine: Engine,
    policy: Policy,
    actual_policy: Policy,
    since: datetime,
    until: datetime,
    *,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> WhatIf:
    """Replay the stored decisions of [since, until] under `policy`; progress as (done, total)."""
    total = count_history(engine, since, until)
    on_progress(0, total)
    return compare(
        read_history(engine, since, until),
        policy,
        actual_policy,
        since,
        until,
        reason=Renderer(policy).reason,
        on_progress=lambda done: on_progress(done, total),
    )


def fairness_json(pools: list[PoolFairness], policy: Policy) -> list[dict[str, Any]]:
    """Fairness per pool and member as JSON values."""
    names = Renderer(policy)
    return [
        {
            "pool": pool.pool,
            "strategy": pool.strategy,
            "leads": pool.leads,
            "max_deviation": _rounded(pool.max_deviation),
            "members": [
                {
                    "manager": m.manager,
                    "name": names.name(m.manager),
                    "weight": m.weight,
                    "received": m.received,
                    "target": _rounded(m.target),
                    "deviation": _rounded(m.deviation),
                }
                for m in pool.members
            ],
        }
        for pool in pools
    ]


def whatif_json(result: WhatIf, policy: Policy, actual_policy: Policy) -> dict[str, Any]:
    """The comparison as the API returns it and the CLI prints it with `--format json`."""
    actual_names, names = Renderer(actual_policy), Renderer(policy)
    return {
        "since": result.since.isoformat(),
        "until": result.until.isoformat(),
        "actual_version": result.actual_version,
        "new_version": result.new_version,
        "leads": result.leads,
        "changed": result.changed,
        "waiting": result.waiting,
        "purged": result.purged,
        "changes": [
            {
                "crm": c.crm,
                "lead_id": c.lead_id,
                "decided_at": c.decided_at.isoformat(),
                "actual": c.actual,
                "actual_name": actual_names.name(c.actual),
                "would": c.would,
                "would_name": names.name(c.would) if c.would else None,
                "actual_rule": c.actual_rule,
                "would_rule": c.would_rule,
                "reason": c.reason,
            }
            for c in result.changes
        ],
        "rules": [{"rule": r.rule, "actual": r.actual, "would": r.would} for r in result.rules],
        "actual_fairness": fairness_json(result.actual_fairness, actual_policy),
        "would_fairness": fairness_json(result.would_fairness, policy),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
