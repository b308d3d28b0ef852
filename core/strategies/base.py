"""What a strategy sees and returns, and the registry that finds strategies by name."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol

from core.availability import Skip
from core.model import Lead, Manager, ManagerKey, Pool
from core.policy import Policy
from core.state import PoolState, RoutingState


# PoolView and Choice pass between `decide` and a strategy once per lead and never leave it: they are
# not frozen because a frozen dataclass takes five times as long to build. Strategies only read them.
@dataclass(slots=True)
class PoolView:
    """One pool at the moment of a decision: its available members in pool order and its state."""

    pool: Pool
    lead: Lead
    eligible: tuple[Manager, ...]
    positions: tuple[int, ...]
    state: PoolState
    routing: RoutingState
    policy: Policy
    now: datetime
    keys: tuple[ManagerKey, ...]  # of the eligible members
    skipped: tuple[Skip, ...] = ()  # the members who cannot take the lead now, and why

    def weight(self, key: ManagerKey) -> int:
        """The member's integer weight in this pool."""
        return self.pool.weights.get(key, 1)

    def cyclic(self) -> list[Manager]:
        """Eligible members in round-robin order: starting right after the last one chosen."""
        members = self.pool.members
        last = self.state.last
        cut = members.index(last) if last in members else -1
        split = bisect_right(self.positions, cut)  # positions ascend: members after the cut, then before
        return [*self.eligible[split:], *self.eligible[:split]]

    def cyclic_keys(self) -> tuple[ManagerKey, ...]:
        """The keys of `cyclic()`."""
        members = self.pool.members
        last = self.state.last
        cut = members.index(last) if last in members else -1
        split = bisect_right(self.positions, cut)
        return self.keys[split:] + self.keys[:split]


@dataclass(slots=True)
class Choice:
    """A strategy's answer: who, the pool's next state, and anything to tell people.

    With `wait_until` set the strategy would rather wait for `assignee`, who is skipped until then.
    """

    assignee: ManagerKey
    pool_state: PoolState
    suggested: tuple[ManagerKey, ...] = ()
    notify: tuple[ManagerKey, ...] = ()
    detail: Mapping[str, str] = field(default_factory=dict)
    wait_until: datetime | None = None
    # The members whose absence mattered (sticky: the key's owner and those ahead in its order);
    # None means every skipped member was a candidate.
    passed_over: tuple[ManagerKey, ...] | None = None


class Strategy(Protocol):
    """Picks one assignee among a pool's available members."""

    name: ClassVar[str]
    needs_members: ClassVar[bool]

    def choose(self, view: PoolView) -> Choice:
        """Pick the assignee for the lead in `view`."""
        ...


REGISTRY: dict[str, Strategy] = {}


def register(cls: Callable[[], Strategy]) -> Callable[[], Strategy]:
    """Class decorator adding one instance of the strategy to the registry under its name."""
    instance = cls()
    REGISTRY[instance.name] = instance
    return cls
