"""Fairness of a run of decisions: leads per pool member against their weighted share.

A member's deviation after `t` pool leads is `received − weight / total_weight × t`. Between two
of their own assignments it only decays (everyone else's leads raise their target), and it jumps
by one at each of their assignments, so its extremes over every prefix sit just before and just
after their assignments, or at the end. Kept multiplied by the total weight, all of it is integer
arithmetic: exact, and O(1) per lead.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.decision import Decision, Outcome, Route
from core.model import ManagerKey, Pool
from core.policy import Policy

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


@dataclass(frozen=True, slots=True)
class PoolFairness:
    """One pool's figures: leads routed through it, its worst member deviation, Jain's index."""

    pool: str
    strategy: str
    leads: int
    members: tuple[MemberFairness, ...]
    max_deviation: float | None
    jain: float | None


class _Member:
    """Running counters of one member, deviations scaled by the pool's total weight."""

    __slots__ = ("received", "weight", "worst")

    def __init__(self, weight: int) -> None:
        self.weight = weight
        self.received = 0
        self.worst = 0  # max |W·received − weight·t| seen so far


class _PoolTally:
    """Running counters of one pool."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.targeted = pool.strategy not in UNTARGETED
        self.members = {key: _Member(pool.weights.get(key, 1)) for key in pool.members}
        self.total_weight = sum(m.weight for m in self.members.values())
        self.leads = 0

    def record(self, assignee: ManagerKey) -> None:
        member = self.members.get(assignee)
        if member is None:  # a head or claim user receiving on the pool's behalf
            member = self.members[assignee] = _Member(0)
        before = self.total_weight * member.received - member.weight * self.leads
        self.leads += 1
        after = before + self.total_weight - member.weight
        member.received += 1
        member.worst = max(member.worst, abs(before), abs(after))

    def report(self) -> PoolFairness:
        rows = tuple(self._member(key, m) for key, m in self.members.items())
        worst = [r.max_deviation for r in rows if r.max_deviation is not None]
        return PoolFairness(
            pool=self.pool.name,
            strategy=self.pool.strategy,
            leads=self.leads,
            members=rows,
            max_deviation=max(worst, default=0.0) if self.targeted else None,
            jain=self._jain() if self.targeted else None,
        )

    def _member(self, key: ManagerKey, m: _Member) -> MemberFairness:
        if not self.targeted or not self.total_weight or not m.weight:
            return MemberFairness(key, m.weight, m.received, None, None, None)
        total = self.total_weight
        end = total * m.received - m.weight * self.leads
        target = m.weight * self.leads / total
        return MemberFairness(key, m.weight, m.received, target, end / total, max(m.worst, abs(end)) / total)

    def _jain(self) -> float | None:
        shares = [m.received / m.weight for m in self.members.values() if m.weight]
        square_sum = sum(x * x for x in shares)
        if not square_sum:
            return None
        return sum(shares) ** 2 / (len(shares) * square_sum)


class FairnessTracker:
    """Accumulates pool decisions one at a time and reports fairness per pool, in config order."""

    def __init__(self, policy: Policy) -> None:
        self._pools = {name: _PoolTally(pool) for name, pool in policy.pools.items()}

    def record(self, decision: Decision) -> None:
        """Count one decision if it was a pool assignment; continuity and fallbacks are not shares."""
        if decision.outcome is not Outcome.ASSIGN or decision.route is not Route.POOL:
            return
        if decision.pool is None or decision.assignee is None:
            return
        self.count(decision.pool, decision.assignee)

    def count(self, pool: str, assignee: ManagerKey) -> None:
        """Count one lead a pool gave to `assignee` (a stored decision, already known to be a pool's)."""
        tally = self._pools.get(pool)
        if tally is not None:
            tally.record(assignee)

    def report(self) -> list[PoolFairness]:
        """Figures for every pool, including pools that received nothing."""
        return [tally.report() for tally in self._pools.values()]
