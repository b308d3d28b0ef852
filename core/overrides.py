"""A person's responsible change in the CRM, counted toward the new owner's share when configured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from core.model import ManagerKey
from core.policy import Policy
from core.state import ManagerLoad, RoutingState

N = TypeVar("N", int, float)


def apply_override(
    state: RoutingState,
    policy: Policy,
    pool: str,
    previous: ManagerKey | None,
    new: ManagerKey | None,
    decided_at: datetime,
    now: datetime,
    *,
    value: float = 0.0,
    tier: str | None = None,
) -> RoutingState:
    """The state once a lead the pool gave `previous` belongs to `new`: the pool's counter and the
    open load move from one to the other (the day's count too, if the lead came in today), and so
    do the lead's `value` and its `tier` count where the pool keeps them. Either side may be someone
    we do not route to (None, or not in the pool): only the other side moves."""
    pools = dict(state.pools)
    current = state.pool(pool)
    members = policy.pools[pool].members if pool in policy.pools else ()
    counts = _moved(current.counts, previous, new, members, 1)
    values = _moved(current.values, previous, new, members, value) if current.values else current.values
    tiers = current.tiers
    inner = tiers.get(tier or "")
    if inner is not None:
        tiers = {**tiers, tier or "": replace(inner, counts=_moved(inner.counts, previous, new, members, 1))}
    pools[pool] = replace(current, counts=counts, values=values, tiers=tiers)
    loads = dict(state.loads)
    for key, step in ((previous, -1), (new, 1)):
        if key is None or key not in policy.managers:
            continue
        tz = policy.managers[key].tz
        today = now.astimezone(tz).date()
        came_today = decided_at.astimezone(tz).date() == today
        load = state.load(key)
        count = load.count_on(today) + (step if came_today else 0)
        loads[key] = ManagerLoad(day=today, today=max(count, 0), open=max(load.open + step, 0))
    return RoutingState(pools=pools, loads=loads, paused=state.paused, inactive=state.inactive)


def _moved(
    amounts: Mapping[ManagerKey, N],
    previous: ManagerKey | None,
    new: ManagerKey | None,
    members: tuple[ManagerKey, ...],
    step: N,
) -> dict[ManagerKey, N]:
    """`step` taken from `previous` (never below zero) and given to `new`, members only."""
    result = dict(amounts)
    if previous in members and result.get(previous, 0) > 0:
        result[previous] = max(result[previous] - step, 0)
    if new in members:
        result[new] = result.get(new, 0) + step
    return result
