"""`least_loaded`: the member with the fewest open leads relative to capacity."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

from core.model import Manager
from core.strategies.base import Choice, PoolView, register
from core.strategies.ledger import advance, effective_counts


@register
class LeastLoaded:
    """Lowest open/capacity wins (capacity = max_open, else the weight); ties by today, then turn."""

    name: ClassVar[str] = "least_loaded"
    needs_members: ClassVar[bool] = True

    def choose(self, view: PoolView) -> Choice:
        """Pick the least loaded available member."""
        day_of = {m.key: view.now.astimezone(m.tz).date() for m in view.eligible}

        def load(item: tuple[int, Manager]) -> tuple[Fraction, int, int]:
            position, member = item
            state = view.routing.load(member.key)
            capacity = member.max_open or view.weight(member.key)
            return (Fraction(state.open, capacity), state.count_on(day_of[member.key]), position)

        chosen = min(enumerate(view.cyclic()), key=load)[1].key
        effective = effective_counts(view)
        return Choice(
            chosen, advance(view, effective, chosen), detail={"open": str(view.routing.load(chosen).open)}
        )
