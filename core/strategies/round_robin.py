"""`round_robin`: a strict linear queue over the available members."""

from __future__ import annotations

from typing import ClassVar

from core.model import ManagerKey
from core.strategies.base import Choice, PoolView, register
from core.strategies.by_tier import choose_by_tier
from core.strategies.by_value import choose_by_value
from core.strategies.ledger import advance, effective_counts


def queue_pick(view: PoolView, effective: dict[ManagerKey, int]) -> ManagerKey:
    """The member with the fewest leads; ties in pool order after the last one chosen."""
    lowest = min(effective.values())
    return next(key for key in view.cyclic_keys() if effective[key] == lowest)


@register
class RoundRobin:
    """The member with the fewest leads gets the next one; ties go in pool order after the last."""

    name: ClassVar[str] = "round_robin"
    needs_members: ClassVar[bool] = True

    def choose(self, view: PoolView) -> Choice:
        """Pick the next member in the queue (by value, or in the lead's tier, if the pool says)."""
        balance = view.pool.balance
        if balance == "value":
            return choose_by_value(view, queue_pick, equal=True)
        if balance == "tiers":
            return choose_by_tier(view, queue_pick)
        effective = effective_counts(view)
        chosen = queue_pick(view, effective)
        return Choice(chosen, advance(view, effective, chosen))
