"""`least_loaded`: the member with the fewest open leads relative to capacity."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

from core.model import Manager, ManagerKey
from core.strategies.base import Choice, PoolView, register
from core.strategies.ledger import advance, effective_counts


@register
class LeastLoaded:
    """Lowest open/capacity wins (capacity = max_open, else the weight); ties by today, then turn."""

    name: ClassVar[str] = "least_loaded"
    needs_members: ClassVar[bool] = True

    def choose(self, view: PoolView) -> Choice:
        """Pick the least loaded available member."""
        chosen = _least_loaded(view)
        effective = effective_counts(view)
        return Choice(
            chosen, advance(view, effective, chosen), detail={"open": str(view.routing.load(chosen).open)}
        )


def _least_loaded(view: PoolView) -> ManagerKey:
    """One pass in turn order comparing open/capacity by cross-multiplying: exact, no Fraction per member."""
    weights = view.pool.weights
    best: ManagerKey | None = None
    best_open = best_capacity = best_today = 0
    for member in view.cyclic():
        capacity = member.max_open or weights.get(member.key, 1)
        if capacity.__class__ is not int or capacity <= 0:
            return _by_fractions(view)  # a capacity the cross-multiplication would get wrong
        load = view.routing.load(member.key)
        today = load.count_on(view.now.astimezone(member.tz).date())
        left, right = load.open * best_capacity, best_open * capacity
        if best is None or left < right or (left == right and today < best_today):
            best, best_open, best_capacity, best_today = member.key, load.open, capacity, today
    assert best is not None, "decide calls strategies with at least one available member"
    return best


def _by_fractions(view: PoolView) -> ManagerKey:
    """The same choice for any capacity, by exact fractions; earlier in turn order wins a tie."""
    day_of = {m.key: view.now.astimezone(m.tz).date() for m in view.eligible}

    def load(item: tuple[int, Manager]) -> tuple[Fraction, int, int]:
        position, member = item
        state = view.routing.load(member.key)
        capacity = member.max_open or view.weight(member.key)
        return (Fraction(state.open, capacity), state.count_on(day_of[member.key]), position)

    return min(enumerate(view.cyclic()), key=load)[1].key
