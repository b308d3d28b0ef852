"""Per-pool accounting shared by the counting strategies.

Each member has an *effective count*: leads received from this pool plus any credit given so that
a member who comes back (from vacation, a day off, a cap) or joins late starts at the pool's
current level instead of collecting a burst. The pool's `on_return` policy says how much of the
missed share may still be caught up: 0 (`resume`), N (`catch_up_max`) or all (`catch_up`).
Credit is applied only when someone re-enters the set of available members, so with everyone
available the counts are exactly the leads given — which is what the fairness proofs rely on.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import repeat

from core.model import Manager, ManagerKey
from core.state import PoolState
from core.strategies.base import PoolView


def effective_counts(view: PoolView) -> dict[ManagerKey, int]:
    """Counts of the eligible members, with newcomers and returners lifted per the pool policy."""
    counts, present, keys = view.state.counts, view.state.present, view.keys
    if not present:
        return {k: counts.get(k, 0) for k in keys}
    if present.issuperset(keys) and all(map(counts.__contains__, keys)):
        return {k: counts[k] for k in keys}  # the usual case: nobody came back, nobody to lift
    result = {k: counts[k] for k in keys if k in present and k in counts}
    weights = view.pool.weights
    level_sum = sum(result.values())
    level_weight = sum(weights.get(k, 1) for k in result)
    cap = view.pool.on_return.max_catch_up
    for key in keys:
        if key in result:
            continue
        level = weights.get(key, 1) * level_sum // level_weight if level_weight else 0
        base = counts.get(key)
        if base is None:
            result[key] = level
        elif cap is None:
            result[key] = base
        else:
            result[key] = max(base, level - cap)
    return result


def advance(view: PoolView, effective: dict[ManagerKey, int], chosen: ManagerKey) -> PoolState:
    """The pool's next state after giving one lead to `chosen`.

    Members skipped this time who have no counter yet get one at the current level, so a member
    who was unavailable from the start is a returner later (their policy applies), not a newcomer.
    """
    counts = dict(view.state.counts)
    counts.update(effective)
    members = view.pool.members
    missing = [] if all(map(counts.__contains__, members)) else [k for k in members if k not in counts]
    if missing:
        weights = view.pool.weights
        level_sum = sum(effective.values())
        level_weight = sum(weights.get(k, 1) for k in effective)
        for key in missing:
            counts[key] = weights.get(key, 1) * level_sum // level_weight
    counts[chosen] = counts.get(chosen, 0) + 1
    state = view.state
    present = state.present
    # Keep the stored set when the same people were available: equal, and no new frozenset per lead.
    same = len(present) == len(effective) and present.issuperset(effective)
    kept = present if same else frozenset(effective)
    return PoolState(counts, chosen, kept, state.values, state.largest, state.tiers, state.junk)


def quota_ranking(view: PoolView, effective: dict[ManagerKey, int]) -> list[ManagerKey]:
    """Members best first by the quota method: under upper quota, then weight/(count+1), then turn."""
    total = sum(effective.values())
    weight_sum = sum(view.weight(k) for k in effective)

    def rank(item: tuple[int, Manager]) -> tuple[bool, Fraction, int]:
        position, member = item
        w, e = view.weight(member.key), effective[member.key]
        return (e * weight_sum >= w * (total + 1), -Fraction(w, e + 1), position)

    return [m.key for _, m in sorted(enumerate(view.cyclic()), key=rank)]


def quota_pick(view: PoolView, effective: dict[ManagerKey, int]) -> ManagerKey:
    """The single best member by the quota method (linear, no sorting)."""
    weights = view.pool.weights
    total = sum(effective.values())
    weight_sum = sum(map(weights.get, effective, repeat(1)))
    best: ManagerKey | None = None
    best_w = best_den = 0
    for key in view.cyclic_keys():
        w, e = weights.get(key, 1), effective[key]
        if e * weight_sum >= w * (total + 1):
            continue
        if best is None or w * best_den > best_w * (e + 1):
            best, best_w, best_den = key, w, e + 1
    assert best is not None, "the quota method always leaves someone under their upper quota"
    return best
