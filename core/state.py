"""The mutable facts a decision reads, passed in as immutable snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from core.model import ManagerKey
from core.values import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class PoolState:
    """A pool's counters: effective leads per member, the round-robin cursor, who was present.

    A pool balancing value also keeps each member's effective value and the largest single lead's
    value so far; a pool balancing tiers keeps one such state per tier; a pool with junk credit keeps
    each member's credits of the current week (`junk`: manager → (week, credits)).
    """

    counts: Mapping[ManagerKey, int] = field(default_factory=dict)
    last: ManagerKey | None = None
    present: frozenset[ManagerKey] = frozenset()
    values: Mapping[ManagerKey, float] = field(default_factory=dict)
    largest: float = 0.0
    tiers: Mapping[str, PoolState] = field(default_factory=dict)
    junk: Mapping[ManagerKey, tuple[str, int]] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class ManagerLoad:
    """Leads a manager received on one local day, and leads still open."""

    day: date | None = None
    today: int = 0
    open: int = 0

    def count_on(self, day: date) -> int:
        """Leads received on `day` (0 if the stored counter is for another day)."""
        return self.today if self.day == day else 0


_NO_LOAD = ManagerLoad()  # shared: it has nothing mutable, and most lookups of a new manager want it


@dataclass(frozen=True, slots=True)
class Pause:
    """A manager switched off by hand, optionally until a moment."""

    until: datetime | None = None
    reason: str = ""

    def active_at(self, now: datetime) -> bool:
        """True while the pause holds."""
        return self.until is None or now < self.until


@quick_init
@dataclass(frozen=True, slots=True)
class RoutingState:
    """Everything outside the config that a decision depends on."""

    pools: Mapping[str, PoolState] = field(default_factory=dict)
    loads: Mapping[ManagerKey, ManagerLoad] = field(default_factory=dict)
    paused: Mapping[ManagerKey, Pause] = field(default_factory=dict)
    inactive: frozenset[ManagerKey] = frozenset()

    def pool(self, name: str) -> PoolState:
        """The state of one pool (empty for a new pool)."""
        return self.pools.get(name) or PoolState()

    def load(self, key: ManagerKey) -> ManagerLoad:
        """The load of one manager (zero for someone new)."""
        return self.loads.get(key) or _NO_LOAD
