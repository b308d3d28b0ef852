"""`round_robin`: a strict linear queue over the available members."""

from __future__ import annotations

from typing import ClassVar

from core.strategies.base import Choice, PoolView, register
from core.strategies.ledger import advance, effective_counts


@register
class RoundRobin:
    """The member with the fewest leads gets the next one; ties go in pool order after the last."""

    name: ClassVar[str] = "round_robin"
    needs_members: ClassVar[bool] = True

    def choose(self, view: PoolView) -> Choice:
        """Pick the next member in the queue."""
        effective = effective_counts(view)
        lowest = min(effective.values())
        chosen = next(key for key in view.cyclic_keys() if effective[key] == lowest)
        return Choice(chosen, advance(view, effective, chosen))
