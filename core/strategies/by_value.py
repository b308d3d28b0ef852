"""`balance: value`: each lead goes to the member furthest below their weighted share of value.

With `V_i` a member's value received, `T` the pool's total, `w_i / W` their share and `L` the
largest single lead's value so far, a lead of value `v` goes to the member who is, counting the lead
into everyone's target (`e_i = V_i − w_i / W × (T + v)`),

1. allowed: `e_i + v ≤ (1 − 1/n) × L` — receiving it does not put them a lead ahead. Someone always
   is: the `e_i` sum to `−v`, so the lowest is at most `−v / n`;
2. the soonest due: the lowest `(e_i + L) / w_i`, the part of the pool's future value that may go
   to others before this member falls a whole largest lead behind (earliest deadline first);
3. ties in round-robin order after the last one chosen.

This is the quota method (`weighted`) with value in place of count. Rule 1 proves the upper side:
nobody is ever more than `(1 − 1/n) × L` ahead of their share. Rule 2 keeps the lower side: with
everyone available, nobody falls a whole `L` behind at any prefix — checked by the property tests
in `tests/unit/test_value_balance.py` (random weights, heavy-tailed and adversarial values, ties,
members leaving and returning), not proven in closed form. A lead worth nothing moves no value, so
it goes by count (the pool's own count rotation), which keeps counts from drifting further.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from core.model import ManagerKey
from core.strategies.base import Choice, PoolView
from core.strategies.ledger import advance, effective_counts
from core.worth import lead_value

CountPick = Callable[[PoolView, dict[ManagerKey, int]], ManagerKey]

_SLACK = 1e-9  # relative: float sums of budgets must not make an exact tie look like a lead ahead


def choose_by_value(view: PoolView, by_count: CountPick, *, equal: bool = False) -> Choice:
    """Pick by value (by count for a lead worth nothing); `equal` ignores the pool's weights."""
    effective = effective_counts(view)
    value = lead_value(view.lead, view.pool.value)
    largest = max(view.state.largest, value)
    values = effective_values(view, effective)
    weights: Mapping[ManagerKey, int] = {} if equal else view.pool.weights
    if value > 0:
        chosen = value_pick(view.cyclic_keys(), weights, values, value, largest)
    else:
        chosen = by_count(view, effective)
    state = advance(view, effective, chosen)
    stored = _advance_values(view, values, chosen, value)
    return Choice(chosen, replace(state, values=stored, largest=largest), detail={"value": _text(value)})


def value_pick(
    keys: tuple[ManagerKey, ...],
    weights: Mapping[ManagerKey, int],
    values: Mapping[ManagerKey, float],
    value: float,
    largest: float,
) -> ManagerKey:
    """The member to receive a lead of `value`, by the rules above; `keys` in round-robin order."""
    weight_sum = sum(weights.get(k, 1) for k in keys)
    total = sum(values[k] for k in keys) + value
    limit = (1 - 1 / len(keys)) * largest + _SLACK * largest
    best: ManagerKey | None = None
    best_due = 0.0
    lowest: ManagerKey = keys[0]
    lowest_gap = float("inf")
    for key in keys:
        w = weights.get(key, 1)
        gap = values[key] - w * total / weight_sum
        if gap < lowest_gap:
            lowest, lowest_gap = key, gap
        if gap + value > limit:
            continue
        due = (gap + largest) / w
        if best is None or due < best_due:
            best, best_due = key, due
    return best if best is not None else lowest  # only float rounding could leave nobody allowed


def effective_values(view: PoolView, counts: Mapping[ManagerKey, int]) -> dict[ManagerKey, float]:
    """Values of the eligible members, newcomers and returners lifted as `effective_counts` lifts
    counts: to the pool's level, less at most `on_return`'s leads' worth (an average lead each)."""
    values, present, keys = view.state.values, view.state.present, view.keys
    if not present:
        return {k: values.get(k, 0.0) for k in keys}
    if present.issuperset(keys) and all(map(values.__contains__, keys)):
        return {k: values[k] for k in keys}
    result = {k: values[k] for k in keys if k in present and k in values}
    weights = view.pool.weights
    level_sum = sum(result.values())
    level_weight = sum(weights.get(k, 1) for k in result)
    per_lead = level_sum / max(sum(counts.get(k, 0) for k in result), 1)
    cap = view.pool.on_return.max_catch_up
    for key in keys:
        if key in result:
            continue
        level = weights.get(key, 1) * level_sum / level_weight if level_weight else 0.0
        base = values.get(key)
        if base is None:
            result[key] = level
        elif cap is None:
            result[key] = base
        else:
            result[key] = max(base, level - cap * per_lead)
    return result


def _advance_values(
    view: PoolView, values: dict[ManagerKey, float], chosen: ManagerKey, value: float
) -> dict[ManagerKey, float]:
    """The stored values after `chosen` got `value`; members skipped without one start at the level."""
    stored = dict(view.state.values)
    stored.update(values)
    missing = [k for k in view.pool.members if k not in stored]
    if missing:
        weights = view.pool.weights
        level_sum = sum(values.values())
        level_weight = sum(weights.get(k, 1) for k in values)
        for key in missing:
            stored[key] = weights.get(key, 1) * level_sum / level_weight
    stored[chosen] = stored.get(chosen, 0.0) + value
    return stored


def _text(value: float) -> str:
    """A value as people write it: no trailing `.0`."""
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"
