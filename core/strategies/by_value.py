"""`balance: value`: each member's share of the pool's value, within one largest lead.

With `V_i` a member's value received, `T` the pool's total, `p_i = w_i / W` their share and `L` the
largest single lead's value so far, a lead of value `v` is looked at with everyone's gap counting
it into the targets, `e_i = V_i − p_i × (T + v)`, and each member's *slack* `D_i = (e_i + L) / p_i`:
how much value may still go to others before they fall a whole largest lead behind. Then

1. allowed: `e_i + v ≤ (1 − 1/n) × (v + L) / 2` — receiving it puts nobody more than half of this
   lead and the largest one ahead (so never a whole lead ahead). Someone always is allowed: the
   `e_i` sum to `−v`, so the lowest is at most `−v / n`, and `v ≤ L`;
2. preferred: among the allowed, the pool's own count choice (the quota method for `weighted`, the
   fewest leads for `round_robin`), so counts stay close to their shares too;
3. safe: the preferred member gets it only if afterwards, for every `k`, at most `k − 1` members
   have less than `k × L` of slack (each of the next leads helps one member, and nobody may run
   out first); otherwise the member with the least slack gets it (earliest deadline first).

Rule 1 proves the upper side: nobody is ever more than `(1 − 1/n) × L` ahead (a gap only grows
when its member receives, and rule 1 caps it then; it shrinks while others receive). Rule 3 keeps the lower
side: with everyone available, nobody falls a whole `L` behind at any prefix — shown by the property
tests in `tests/unit/test_value_balance.py` (random weights, heavy-tailed, adversarial and bursty
values, ties, members leaving and returning), not proven in closed form. Rule 2 is what keeps the
count drift to a few dozen leads in 10,000 (docs/benchmarks.md) instead of thousands, which the
earliest-deadline rule alone drifts by. A lead worth nothing moves no value: it goes by count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import repeat

from core.model import ManagerKey
from core.state import PoolState
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
        chosen = value_pick(
            view.cyclic_keys(), weights, values, effective, value, largest, by_weight=not equal
        )
    else:
        chosen = by_count(view, effective)
    state = advance(view, effective, chosen)
    stored = _advance_values(view, values, chosen, value)
    after = PoolState(state.counts, state.last, state.present, stored, largest, state.tiers, state.junk)
    return Choice(chosen, after, detail={"value": f"{value:.15g}"})


def value_pick(
    keys: tuple[ManagerKey, ...],
    weights: Mapping[ManagerKey, int],
    values: Mapping[ManagerKey, float],
    counts: Mapping[ManagerKey, int],
    value: float,
    largest: float,
    *,
    by_weight: bool = True,
) -> ManagerKey:
    """The member to receive a lead of `value`, by the rules above; `keys` in round-robin order.
    `by_weight`: the count preference is the quota method (else the fewest leads)."""
    weight_sum = sum(map(weights.get, keys, repeat(1)))
    total = sum(map(values.__getitem__, keys)) + value
    count_total = sum(map(counts.__getitem__, keys))
    limit = (1 - 1 / len(keys)) * (value + largest) / 2 + _SLACK * largest
    gaps: dict[ManagerKey, float] = {}
    urgent: ManagerKey | None = None
    urgent_due = 0.0
    preferred: ManagerKey | None = None
    preferred_rank = (True, 0.0)
    for key in keys:
        w = weights.get(key, 1)
        gap = gaps[key] = values[key] - w * total / weight_sum
        if gap + value > limit:
            continue
        due = (gap + largest) / w
        if urgent is None or due < urgent_due:
            urgent, urgent_due = key, due
        c = counts[key]
        rank = (c * weight_sum >= w * (count_total + 1), -w / (c + 1)) if by_weight else (False, float(c))
        if preferred is None or rank < preferred_rank:
            preferred, preferred_rank = key, rank
    if preferred is None or urgent is None:  # only float rounding could leave nobody allowed
        return min(keys, key=gaps.__getitem__)
    if preferred == urgent or _safe(gaps, weights, weight_sum, preferred, value, largest):
        return preferred
    return urgent


def _safe(
    gaps: Mapping[ManagerKey, float],
    weights: Mapping[ManagerKey, int],
    weight_sum: int,
    chosen: ManagerKey,
    value: float,
    largest: float,
) -> bool:
    """Whether, once `chosen` has the lead, the k-th least slack is at least k largest leads, for all k."""
    slack = sorted(
        (gap + (value if key == chosen else 0.0) + largest) * weight_sum / weights.get(key, 1)
        for key, gap in gaps.items()
    )
    step = largest * (1 - _SLACK)
    return all(room >= step * k for k, room in enumerate(slack, 1))


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
    members = view.pool.members
    missing = [] if all(map(stored.__contains__, members)) else [k for k in members if k not in stored]
    if missing:
        weights = view.pool.weights
        level_sum = sum(values.values())
        level_weight = sum(weights.get(k, 1) for k in values)
        for key in missing:
            stored[key] = weights.get(key, 1) * level_sum / level_weight
    stored[chosen] = stored.get(chosen, 0.0) + value
    return stored
