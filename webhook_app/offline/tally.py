"""What a `simulate` run with stage rows reports: each handoff, and counts per handoff and outcome."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from core.decision import Decision, Step
from core.handoff import BLOCKED, HANDED, KEPT, TO_HEAD
from core.model import Lead, ManagerKey
from core.policy import Handoff, Policy
from webhook_app.offline.rowproblem import RowProblem

CANCELLED = "cancelled"  # after N days: the deal left the stage; return: the substitute moved it on
IN_TIME = "in-time"  # SLA: the lead's stage changed (or it changed hands) within the minutes
PENDING = "pending"  # due after the file's last row (nobody knows what happened then), or never taken
OUTCOMES = (HANDED, TO_HEAD, KEPT, BLOCKED, CANCELLED, IN_TIME, PENDING)
OWNER = "owner"  # the kind (and name) of a person's change read from an `owner` row: not a handoff
OVERRIDE = "override"  # its outcome; it is printed among the handoffs but counted in none


class RowError(Exception):
    """A row the run cannot follow (a stage row for an unknown lead); `line` when known."""

    def __init__(self, line: int | None, message: str | RowProblem) -> None:
        super().__init__(str(message))
        self.line, self.problem = line, message


@dataclass(frozen=True, slots=True)
class Handed:
    """A handoff that came due and what became of it: a decision, or the step saying why not."""

    lead: Lead
    at: datetime
    kind: str  # stage | after_days | sla | return (owner: a person's change, see OWNER)
    handoff: str  # the handoff's name; "return" for a return after an absence
    outcome: str  # handed | to-head | kept-by-exception | blocked | cancelled (override)
    previous: ManagerKey | None
    owner: ManagerKey | None  # who has the deal afterwards
    decision: Decision | None = None
    step: Step | None = None


def handoff_kind(handoff: Handoff) -> str:
    """`stage`, `after_days` or `sla`: what triggers the handoff."""
    if handoff.on_stage is not None:
        return "stage"
    return "sla" if handoff.unworked_minutes else "after_days"


@dataclass(frozen=True, slots=True)
class HandoffCount:
    """One handoff's figures: how often each outcome happened."""

    handoff: str
    kind: str
    counts: dict[str, int]  # every outcome in OUTCOMES, zeros included


class HandoffTally:
    """Outcome counts per handoff (in config order), and handovers per (from, to)."""

    def __init__(self, policy: Policy) -> None:
        self.kinds = {h.name: handoff_kind(h) for h in policy.handoffs}
        if any(p.return_after_absence for p in policy.pools.values()):
            self.kinds["return"] = "return"
        self.counts: Counter[tuple[str, str]] = Counter()
        self.pairs: Counter[tuple[ManagerKey | None, ManagerKey]] = Counter()

    def add(self, handoff: str, outcome: str, previous: ManagerKey | None, owner: ManagerKey | None) -> None:
        """Count one outcome; a handover (a new owner) also counts for its (previous, owner) pair."""
        self.counts[handoff, outcome] += 1
        if owner is not None and outcome in (HANDED, TO_HEAD):
            self.pairs[previous, owner] += 1

    @property
    def handovers(self) -> int:
        """Deals that changed hands."""
        return sum(self.pairs.values())

    def report(self) -> list[HandoffCount]:
        """A row per configured handoff, zeros included."""
        return [
            HandoffCount(name, kind, {outcome: self.counts[name, outcome] for outcome in OUTCOMES})
            for name, kind in self.kinds.items()
        ]

    def top_pairs(self) -> list[tuple[ManagerKey | None, ManagerKey, int]]:
        """(from, to, handovers), most frequent first."""
        ranked = sorted(self.pairs.items(), key=lambda item: (-item[1], item[0][0] or "", item[0][1]))
        return [(previous, owner, n) for (previous, owner), n in ranked]
