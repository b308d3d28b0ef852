"""A person's responsible change in the CRM, counted toward the new owner's share when configured."""

from __future__ import annotations

from datetime import datetime

from core.model import ManagerKey
from core.policy import Policy
from core.state import ManagerLoad, PoolState, RoutingState


def apply_override(
    state: RoutingState,
    policy: Policy,
    pool: str,
    previous: ManagerKey | None,
    new: ManagerKey | None,
    decided_at: datetime,
    now: datetime,
) -> RoutingState:
    """The state once a lead the pool gave `previous` belongs to `new`: the pool's counter and the
    open load move from one to the other (the day's count too, if the lead came in today). Either
    side may be someone we do not route to (None, or not in the pool): only the other side moves."""
    pools = dict(state.pools)
    current = state.pool(pool)
    members = policy.pools[pool].members if pool in policy.pools else ()
    counts = dict(current.counts)
    if previous in members and counts.get(previous, 0) > 0:
        counts[previous] -= 1
    if new in members:
        counts[new] = counts.get(new, 0) + 1
    pools[pool] = PoolState(counts, current.last, current.present)
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
