"""`manual`: the head of sales distributes by hand; we suggest the best candidates."""

from __future__ import annotations

from typing import ClassVar

from core.strategies.base import Choice, PoolView, register
from core.strategies.ledger import effective_counts, quota_ranking


@register
class Manual:
    """Assigns to the pool's head (else the head of sales) with the top candidates suggested."""

    name: ClassVar[str] = "manual"
    needs_members: ClassVar[bool] = False

    def choose(self, view: PoolView) -> Choice:
        """Send the lead to the head with suggestions; the pool's counters do not move."""
        head = view.pool.head or view.policy.head_of_sales
        assert head is not None, "config validation requires a head for manual pools"
        suggested = quota_ranking(view, effective_counts(view))[: view.pool.suggest]
        return Choice(head, view.state, suggested=tuple(suggested))
