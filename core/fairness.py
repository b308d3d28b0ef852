"""Fairness of a run of decisions: leads and value per pool member against their weighted share.

A member's deviation after `t` pool leads is `received − weight / total_weight × t`. Between two
of their own assignments it only decays (everyone else's leads raise their target), and it jumps
by one at each of their assignments, so its extremes over every prefix sit just before and just
after their assignments, or at the end. Kept multiplied by the total weight, all of it is integer
arithmetic: exact, and O(1) per lead. Value (each lead's worth by the pool's `value:`, the budget
by default) is tracked the same way for every pool whatever it balances, its deviations shown in
units of the run's largest single lead; a junk credit takes a lead back out of both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.decision import Decision, Outcome, Route
from core.kinds import AuditKind
from core.lifecycle_types import Note
from core.model import Lead, ManagerKey, Pool
from core.policy import Policy
from core.worth import lead_value

# These strategies park leads on a head or a claim user: counts are real, shares are not the point.
UNTARGETED = frozenset({"manual", "claim"})


@dataclass(frozen=True, slots=True)
class MemberFairness:
    """One member's figures; target and deviations are None in a pool without shares."""

    manager: ManagerKey
    weight: int
    received: int
    target: float | None
    deviation: float | None
    max_deviation: float | None
    value: float = 0.0
    value_target: float | None = None
    value_deviation: float | None = None  # in units of the pool's largest single lead
    max_value_deviation: float | None = None  # the same, the worst at any prefix
    credits: int = 0  # junk credits: leads taken back out of this member's share


@dataclass(frozen=True, slots=True)
class PoolFairness:
    """One pool's figures: leads routed through it, its worst member deviation, Jain's index."""

    pool: str
    strategy: str
    leads: int
    members: tuple[MemberFairness, ...]
    max_deviation: float | None
    jain: float | None
    balance: str = "count"
    value: float = 0.0
    largest: float = 0.0  # the largest single lead's value: the unit of value deviations
    max_value_deviation: float | None = None
    value_jain: float | None = None
    credits: int = 0


class _Member:
    """Running counters of one member, deviations scaled by the pool's total weight."""

    __slots__ = ("credits", "received", "value", "value_worst", "weight", "worst")

    def __init__(self, weight: int) -> None:
        self.weight = weight
        self.received = 0
        self.worst = 0  # max |W·received − weight·t| seen so far
        self.value = 0.0
        self.value_worst = 0.0  # max |W·value − weight·T| seen so far
        self.credits = 0


class _PoolTally:
    """Running counters of one pool."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.targeted = pool.strategy not in UNTARGETED
        self.members = {key: _Member(pool.weights.get(key, 1)) for key in pool.members}
        self.total_weight = sum(m.weight for m in self.members.values())
        self.leads = 0
        self.value = 0.0
        self.largest = 0.0

    def member(self, assignee: ManagerKey) -> _Member:
        member = self.members.get(assignee)
        if member is None:  # a head or claim user receiving on the pool's behalf
            member = self.members[assignee] = _Member(0)
        return member

    def record(self, assignee: ManagerKey, value: float) -> None:
        member = self.member(assignee)
        self._move(member, 1, value)
        if value > self.largest:
            self.largest = value

    def credit(self, assignee: ManagerKey, value: float) -> None:
        """A junk credit: the lead leaves the member's share and the pool's total, as if never given."""
        member = self.member(assignee)
        if member.received:
            self._move(member, -1, -min(value, member.value))
            member.credits += 1

    def _move(self, member: _Member, step: int, value: float) -> None:
        total, weight = self.total_weight, member.weight
        before = total * member.received - weight * self.leads
        after = before + step * (total - weight)
        self.leads += step
        member.received += step
        member.worst = max(member.worst, abs(before), abs(after))
        before_v = total * member.value - weight * self.value
        after_v = before_v + value * (total - weight)
        self.value += value
        member.value += value
        member.value_worst = max(member.value_worst, abs(before_v), abs(after_v))

    def report(self) -> PoolFairness:
        rows = tuple(self._member(key, m) for key, m in self.members.items())
        worst = [r.max_deviation for r in rows if r.max_deviation is not None]
        worst_value = [r.max_value_deviation for r in rows if r.max_value_deviation is not None]
        return PoolFairness(
            pool=self.pool.name,
            strategy=self.pool.strategy,
            leads=self.leads,
            members=rows,
            max_deviation=max(worst, default=0.0) if self.targeted else None,
            jain=self._jain(lambda m: m.received) if self.targeted else None,
            balance=self.pool.balance,
            value=self.value,
            largest=self.largest,
            max_value_deviation=max(worst_value, default=0.0) if self.targeted else None,
            value_jain=self._jain(lambda m: m.value) if self.targeted else None,
            credits=sum(m.credits for m in self.members.values()),
        )

    def _member(self, key: ManagerKey, m: _Member) -> MemberFairness:
        if not self.targeted or not self.total_weight or not m.weight:
            return MemberFairness(key, m.weight, m.received, None, None, None, m.value, credits=m.credits)
        total = self.total_weight
        end = total * m.received - m.weight * self.leads
        target = m.weight * self.leads / total
        unit = total * self.largest if self.largest else None
        end_v = total * m.value - m.weight * self.value
        return MemberFairness(
            key,
            m.weight,
            m.received,
            target,
            end / total,
            max(m.worst, abs(end)) / total,
            m.value,
            m.weight * self.value / total,
            end_v / unit if unit else 0.0,
            max(m.value_worst, abs(end_v)) / unit if unit else 0.0,
            m.credits,
        )

    def _jain(self, amount: Callable[[_Member], float]) -> float | None:
        shares = [amount(m) / m.weight for m in self.members.values() if m.weight]
        square_sum = sum(x * x for x in shares)
        if not square_sum:
            return None
        return sum(shares) ** 2 / (len(shares) * square_sum)


class FairnessTracker:
    """Accumulates pool decisions one at a time and reports fairness per pool, in config order."""

    def __init__(self, policy: Policy) -> None:
        self._pools = {name: _PoolTally(pool) for name, pool in policy.pools.items()}

    def record(self, decision: Decision, lead: Lead | None = None) -> None:
        """Count one decision if it was a pool assignment; continuity and fallbacks are not shares.
        The lead gives its value (without it, the lead counts as worth nothing)."""
        if decision.outcome is not Outcome.ASSIGN or decision.route is not Route.POOL:
            return
        if decision.pool is None or decision.assignee is None:
            return
        tally = self._pools.get(decision.pool)
        if tally is not None:
            tally.record(decision.assignee, lead_value(lead, tally.pool.value) if lead is not None else 0.0)

    def count(self, pool: str, assignee: ManagerKey, value: float = 0.0) -> None:
        """Count one lead a pool gave to `assignee` (a stored decision, already known to be a pool's)."""
        tally = self._pools.get(pool)
        if tally is not None:
            tally.record(assignee, value)

    def credit(self, pool: str, assignee: ManagerKey, value: float) -> None:
        """Take a lead credited as junk back out of `assignee`'s share in `pool`."""
        tally = self._pools.get(pool)
        if tally is not None:
            tally.credit(assignee, value)

    def noted(self, note: Note) -> None:
        """Apply a granted junk credit, as the drivers audit it (other notes change no share)."""
        if note.kind is AuditKind.JUNK_CREDIT and note.manager is not None:
            value = note.detail.get("value")
            amount = float(value) if isinstance(value, int | float) else 0.0
            self.credit(str(note.detail.get("pool", "")), note.manager, amount)

    def value_of(self, pool: str, lead: Lead) -> float:
        """The lead's value by the pool's measure (0 for a pool not in the config)."""
        tally = self._pools.get(pool)
        return lead_value(lead, tally.pool.value) if tally is not None else 0.0

    def report(self) -> list[PoolFairness]:
        """Figures for every pool, including pools that received nothing."""
        return [tally.report() for tally in self._pools.values()]
