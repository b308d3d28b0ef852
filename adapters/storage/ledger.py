"""A pool's counters beyond counts (value, per tier, junk credits) as JSON, for `pool_state.ledger`
and the stored inputs of a decision. Pools balancing by count with no junk credit store nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.state import PoolState


def ledger_to_json(state: PoolState) -> dict[str, Any] | None:
    """The extra counters of a pool, or None when it has none."""
    if not (state.values or state.tiers or state.junk):
        return None
    return {
        "values": dict(state.values),
        "largest": state.largest,
        "tiers": {
            name: {"counts": dict(t.counts), "last": t.last, "present": sorted(t.present)}
            for name, t in state.tiers.items()
        },
        "junk": {key: [week, credits] for key, (week, credits) in state.junk.items()},
    }


def pool_state_from(
    counts: Mapping[str, int], last: str | None, present: object, ledger: Mapping[str, Any] | None
) -> PoolState:
    """A stored pool row (or its JSON) back as a `PoolState`."""
    base = (dict(counts), last, frozenset(present))  # type: ignore[call-overload]
    if not ledger:
        return PoolState(*base)
    tiers = {
        name: PoolState(dict(t["counts"]), t["last"], frozenset(t["present"]))
        for name, t in (ledger.get("tiers") or {}).items()
    }
    junk = {key: (str(week), int(credits)) for key, (week, credits) in (ledger.get("junk") or {}).items()}
    values = {key: float(v) for key, v in (ledger.get("values") or {}).items()}
    return PoolState(*base, values, float(ledger.get("largest") or 0.0), tiers, junk)
