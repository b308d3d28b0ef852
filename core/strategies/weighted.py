"""`weighted`: shares by weight with the Balinski–Young quota method.

With all members available, after every prefix of leads each member's count stays within one lead
of their exact share (weight / total weight × leads): the upper-quota filter stops anyone running
ahead, and the Jefferson priority weight/(count+1) keeps the laggard from falling a lead behind.
`balance: value` and `balance: tiers` apply the same method to value and to each tier's counts.
"""

from __future__ import annotations

from typing import ClassVar

from core.strategies.base import Choice, PoolView, register
from core.strategies.by_tier import choose_by_tier
from core.strategies.by_value import choose_by_value
from core.strategies.ledger import advance, effective_counts, quota_pick


@register
class Weighted:
    """Gives each lead to the member most under their weighted share."""

    name: ClassVar[str] = "weighted"
    needs_members: ClassVar[bool] = True

    def choose(self, view: PoolView) -> Choice:
        """Pick by the quota method over the available members (of value, or in the lead's tier)."""
        balance = view.pool.balance
        if balance == "value":
            return choose_by_value(view, quota_pick)
        if balance == "tiers":
            return choose_by_tier(view, quota_pick)
        effective = effective_counts(view)
        chosen = quota_pick(view, effective)
        return Choice(chosen, advance(view, effective, chosen))
