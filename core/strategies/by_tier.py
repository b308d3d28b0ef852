"""`balance: tiers`: a separate count rotation per tier of leads, so the big leads and the small
ones are each shared by the pool's shares.

Each tier keeps its own counters (a `PoolState` in `PoolState.tiers`), and the pool's own count
rotation runs on them: within a tier every member stays within one lead of their share at every
prefix, as the pool's counts do under `balance: count`. Summed over `k` tiers, a member's count
stays within `k` leads of their share overall (the tier errors add up at most). Value is bounded per
tier by the tier's spread, not overall: tiers cut the range of values each rotation sees.
"""

from __future__ import annotations

from core.state import PoolState
from core.strategies.base import Choice, PoolView
from core.strategies.by_value import CountPick
from core.strategies.ledger import advance, effective_counts
from core.worth import tier_of

_EMPTY = PoolState()


def choose_by_tier(view: PoolView, by_count: CountPick) -> Choice:
    """Pick by the pool's count rotation among this lead's tier, and count the lead overall too."""
    tier = tier_of(view.lead, view.pool.tiers)
    inner = view.state.tiers.get(tier) or _EMPTY
    sub = PoolView(
        view.pool,
        view.lead,
        view.eligible,
        view.positions,
        inner,
        view.routing,
        view.policy,
        view.now,
        view.keys,
        view.skipped,
    )
    in_tier = effective_counts(sub)
    chosen = by_count(sub, in_tier)
    tier_state = advance(sub, in_tier, chosen)
    state = advance(view, effective_counts(view), chosen)
    tiers = {**view.state.tiers, tier: PoolState(tier_state.counts, tier_state.last, tier_state.present)}
    after = PoolState(state.counts, state.last, state.present, state.values, state.largest, tiers, state.junk)
    return Choice(chosen, after, detail={"tier": tier})
