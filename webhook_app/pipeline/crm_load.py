"""`load: crm`: open leads as the CRM counts them, for `least_loaded` and `max_open`.

A periodic job (every `refresh_minutes`) reads each manager's open deals and overdue tasks from the
CRM in batches (`LoadReader.open_load`) and stores them with a baseline: the count of leads we had
handed each manager at that moment. A decision then sees `CRM figure + leads we handed them since`,
so our own writes count at once, and deals won, lost or reassigned in the CRM count from the next
read. The stored counter of leads handed out is kept as it is (`offsets` undo the difference).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Connection

from adapters.errors import CrmError
from adapters.storage.kv import put_value, read_value
from adapters.storage.queue import Job, complete, reschedule
from adapters.storage.routing import manager_loads
from core.policy import Policy
from core.ports import LoadReader
from core.state import ManagerLoad, RoutingState
from webhook_app.pipeline.context import JobContext

RETRY = timedelta(minutes=1)
log = logging.getLogger("leadrouter.load")


def _key(crm: str) -> str:
    return f"load:{crm}"


def refresh_load(ctx: JobContext, job: Job) -> None:
    """Read every active manager's open deals and overdue tasks; keep the last good read on failure."""
    now = ctx.clock()
    policy = ctx.policy()
    spec = policy.crm_load
    if spec is None or not isinstance(ctx.crm, LoadReader):
        with ctx.engine.begin() as connection:
            complete(connection, job, ctx.worker, now)  # `load: crm` was switched off
        return
    with ctx.engine.begin() as connection:
        baseline = {key: load.open for key, load in manager_loads(connection).items()}
    users = sorted({m.crm_user_id for m in policy.managers.values() if m.active})
    try:
        counts = ctx.crm.open_load(users, now)  # network I/O outside transactions
    except CrmError as exc:
        log.warning("open loads could not be read; the last read stays: %s", exc)
        with ctx.engine.begin() as connection:
            reschedule(connection, job, ctx.worker, now, now + RETRY)
        return
    value = {
        "at": now.isoformat(),
        "users": {str(user): list(pair) for user, pair in counts.items()},
        "baseline": baseline,
    }
    with ctx.engine.begin() as connection:
        put_value(connection, _key(job.crm), value, now)
        reschedule(connection, job, ctx.worker, now, now + timedelta(minutes=spec.refresh_minutes))


def crm_offsets(connection: Connection, crm: str, policy: Policy, state: RoutingState) -> dict[str, int]:
    """How far each manager's open load as the CRM counts it is above (or below) the stored one."""
    spec = policy.crm_load
    data = read_value(connection, _key(crm)) if spec is not None else None
    if spec is None or not data:
        return {}
    users, baseline = data.get("users") or {}, data.get("baseline") or {}
    offsets = {}
    for key, manager in policy.managers.items():
        pair = users.get(str(manager.crm_user_id))
        if pair is None:
            continue
        stored = state.load(key).open
        since = max(stored - int(baseline.get(key, 0)), 0)  # leads we handed them since the read
        offsets[key] = spec.open_of(int(pair[0]), int(pair[1])) + since - stored
    return offsets


def with_offsets(state: RoutingState, offsets: Mapping[str, int]) -> RoutingState:
    """The state with open loads as the CRM counts them."""
    if not offsets:
        return state
    loads = dict(state.loads)
    for key, offset in offsets.items():
        load = state.load(key)
        loads[key] = ManagerLoad(load.day, load.today, max(load.open + offset, 0))
    return replace(state, loads=loads)
