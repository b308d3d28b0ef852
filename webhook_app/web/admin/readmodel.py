"""What the admin page and the API show, read from the store: the split, availability, health,
decisions and dead letters. Plain data; the page renders it, the API returns it as JSON."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Engine

from adapters.storage.configs import last_refusal
from adapters.storage.engine import reading
from adapters.storage.heartbeats import last_heartbeat
from adapters.storage.hookstate import DOWN, HookState, hook_states
from adapters.storage.kv import entries_like
from adapters.storage.outage import Outage, outages
from adapters.storage.outbox import DEAD, list_dead, outbox_counts
from adapters.storage.pausing import current_pauses
from adapters.storage.queue import due_and_later, oldest_pending, scheduled_jobs
from adapters.storage.readmodel import decision_with_writes, find_decisions, split_counts
from adapters.storage.routing import manager_loads
from core.availability import SkipReason, unavailability
from core.model import Pool
from core.policy import Policy
from core.state import RoutingState

PERIODS = ("today", "week", "month")
# Strategies whose members do not share the leads by weight: a territory (sticky) goes to its owner,
# a manual pool to whom the head picks, a claim pool to whoever takes it first. Their split is a count
# by member, with no target to fall short of or exceed.
BY_KEY = frozenset({"sticky", "manual", "claim"})
MAX_ID = 2**63 - 1  # the largest BIGINT: no row has a bigger id, and the drivers refuse one
REPAIR_SHOWN = timedelta(hours=24)  # how long the header mentions that our webhook was re-enabled
STALE_HEARTBEAT = 60.0  # seconds without a worker pass before the header turns red
STALE_JOB = 300.0  # a due job waiting this long means the workers are behind


def period_start(period: str, now: datetime, tz: tzinfo) -> datetime:
    """The start of today / this week (Monday) / this month in the company's time zone, in UTC."""
    local = now.astimezone(tz).date()
    if period == "week":
        local -= timedelta(days=local.weekday())
    elif period == "month":
        local = local.replace(day=1)
    elif period != "today":
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    return datetime.combine(local, time(0), tz).astimezone(UTC)


@dataclass
class ManagerShare:
    """One member's leads in a period against their target share."""

    manager: str
    name: str
    weight: int
    received: int
    target: float | None  # None in a pool that does not share by weight (BY_KEY)
    deviation: float | None


@dataclass
class PoolSplit:
    """A pool's split for a period."""

    pool: str
    strategy: str
    total: int
    members: list[ManagerShare] = field(default_factory=list)
    by_key: bool = False  # a territory, manual or claim pool: counts only, no target (BY_KEY)


def split(engine: Engine, policy: Policy, now: datetime, period: str) -> list[PoolSplit]:
    """New leads per pool and member since the period's start, against the weighted share."""
    return splits(engine, policy, now, (period,))[period]


def splits(
    engine: Engine, policy: Policy, now: datetime, periods: tuple[str, ...] = PERIODS
) -> dict[str, list[PoolSplit]]:
    """`split` for several periods from one pass over the decisions (the index covers it)."""
    starts = {p: period_start(p, now, policy.tz) for p in periods}
    counts: dict[str, dict[str | None, dict[str, int]]] = {p: defaultdict(dict) for p in periods}
    with reading(engine) as connection:
        # Overrides counted toward the new owner (overrides.count_toward_share) come in the same rows.
        for row in split_counts(connection, starts):
            for p in periods:
                if row._mapping[p]:
                    by_manager = counts[p][row.pool]
                    by_manager[row.manager] = by_manager.get(row.manager, 0) + int(row._mapping[p])
    return {
        p: [_pool_split(policy, pool, counts[p].get(pool.name, {})) for pool in policy.pools.values()]
        for p in periods
    }


def _pool_split(policy: Policy, pool: Pool, got: dict[str, int]) -> PoolSplit:
    total = sum(got.values())
    by_key = pool.strategy in BY_KEY
    weights = {m: pool.weights.get(m, 1) for m in pool.members}
    weight_sum = sum(weights.values()) or 1
    members = []
    for key in pool.members:
        received = got.get(key, 0)
        target = None if by_key else total * weights[key] / weight_sum
        deviation = None if target is None else received - target
        members.append(ManagerShare(key, _label(policy, key), weights[key], received, target, deviation))
    extra = sorted(set(got) - set(pool.members))  # the head or a claim user on the pool's behalf
    members += [
        ManagerShare(
            k, _label(policy, k), 0, got[k], None if by_key else 0.0, None if by_key else float(got[k])
        )
        for k in extra
    ]
    return PoolSplit(pool.name, pool.strategy, total, members, by_key)


def _label(policy: Policy, key: str) -> str:
    manager = policy.managers.get(key)
    return manager.label if manager is not None else key


@dataclass
class ManagerNow:
    """A manager's availability at this moment."""

    manager: str
    name: str
    state: str  # working | off_hours | holiday | absent | paused | capped_day | capped_open | inactive
    until: str | None = None
    substitute: str | None = None
    count: int | None = None
    limit: int | None = None
    reason: str = ""
    paused: bool = False


def managers_now(engine: Engine, policy: Policy, now: datetime) -> list[ManagerNow]:
    """Every manager's availability now, as a decision would see it."""
    with reading(engine) as connection:
        loads = manager_loads(connection)
        pauses = current_pauses(connection)
    state = RoutingState(loads=loads, paused=pauses)
    result = []
    for manager in policy.managers.values():
        skip = unavailability(manager, now, state, policy.calendar)
        pause = pauses.get(manager.key)
        paused = pause is not None and pause.active_at(now)
        row = ManagerNow(manager.key, manager.label, "working", paused=paused)
        if skip is not None:
            row.state = skip.reason.value
            row.until = skip.until.isoformat() if skip.until else None
            row.substitute = skip.substitute
            row.count, row.limit = skip.count, skip.limit
        if paused and pause is not None:
            row.reason = pause.reason
            if skip is not None and skip.reason is SkipReason.PAUSED and pause.until is not None:
                row.until = pause.until.isoformat()
        result.append(row)
    return result


@dataclass
class Health:
    """The header's figures; `stale` names the ones to show in red."""

    heartbeat_age: float | None
    queue_depth: int  # queue_due + queue_later
    oldest_due_age: float | None
    dead_letters: int
    last_reconcile: str | None
    rate_backlog: float | None
    last_crm_call_age: float | None
    stale: list[str]
    outage: Outage | None = None  # the CRM fails us: since when, and what waits for it
    hooks: list[HookState] = field(default_factory=list)  # our webhook per CRM, as last checked
    hook_repaired: list[str] = field(default_factory=list)  # CRMs whose hook was re-enabled lately
    config_fallback: dict[str, Any] | None = None  # a refused file: which stored version runs, since
    queue_due: int = 0  # work due now (or being done)
    queue_later: int = 0  # timers set for later: SLA checks, returns, waits for a shift


def health(engine: Engine, now: datetime) -> Health:
    """Worker heartbeat, queue, oldest due job, dead letters, reconcile and rate-limit state."""
    with reading(engine) as connection:
        beat = last_heartbeat(connection)
        due, later = due_and_later(connection, now)
        oldest = oldest_pending(connection, now)
        dead = outbox_counts(connection).get(DEAD, 0)
        down = outages(connection)
        rows = entries_like(connection, "reconcile%", "ratelimit:%")
        hooks = hook_states(connection)
        fallback = (last_refusal(connection) or {}).get("fallback")
    heartbeat_age = (now - beat).total_seconds() if beat else None
    oldest_age = (now - oldest).total_seconds() if oldest else None
    reconciled = [r.updated_at for r in rows if r.key.startswith("reconcile")]
    limits = [r for r in rows if r.key.startswith("ratelimit:")]
    backlog = max((max(0.0, float(r.value.get("tat", 0)) - now.timestamp()) for r in limits), default=None)
    last_call = max((r.updated_at for r in limits), default=None)
    stale = []
    if heartbeat_age is None or heartbeat_age > STALE_HEARTBEAT:
        stale.append("heartbeat")
    if oldest_age is not None and oldest_age > STALE_JOB:
        stale.append("oldest_due")
    if dead:
        stale.append("dead_letters")
    if down:
        stale.append("crm")
    if any(h.state == DOWN for h in hooks):
        stale.append("hook")
    if fallback:
        stale.append("config_fallback")
    return Health(
        heartbeat_age=heartbeat_age,
        queue_depth=due + later,
        queue_due=due,
        queue_later=later,
        oldest_due_age=oldest_age,
        dead_letters=int(dead),
        last_reconcile=max(reconciled).isoformat() if reconciled else None,
        rate_backlog=backlog,
        last_crm_call_age=(now - last_call).total_seconds() if last_call else None,
        stale=stale,
        outage=down[0] if down else None,
        hooks=hooks,
        hook_repaired=[
            h.crm for h in hooks if h.repaired_at is not None and now - h.repaired_at < REPAIR_SHOWN
        ],
        config_fallback=fallback if isinstance(fallback, dict) else None,
    )


def scheduled(engine: Engine, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The next work set for later — leads waiting for a shift, SLA checks, returns — soonest first."""
    with reading(engine) as connection:
        rows = scheduled_jobs(connection, now, limit)
    return [_plain({"kind": r.kind, "lead_id": r.lead_id, "run_at": r.run_at}) for r in rows]


def parse_id(text: str, name: str) -> int:
    """A row id given as text (`before=`), 1 to MAX_ID; ValueError says what is wrong."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"{name} must be a row id from 1 to {MAX_ID}, not {text[:40]!r}")
    return value


def decisions(
    engine: Engine,
    *,
    lead: str | None = None,
    manager: str | None = None,
    pool: str | None = None,
    rule: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Decisions newest first, filtered; `before_id` pages back."""
    with reading(engine) as connection:
        rows = find_decisions(
            connection,
            lead=lead,
            manager=manager,
            pool=pool,
            rule=rule,
            since=since,
            until=until,
            limit=limit,
            before_id=before_id,
        )
    return [_plain(row) for row in rows]


def decision_detail(engine: Engine, assignment_id: int) -> dict[str, Any] | None:
    """One decision with its full reasoning and the CRM writes it caused (outcome, latency)."""
    with reading(engine) as connection:
        found = decision_with_writes(connection, assignment_id)
    if found is None:
        return None
    row, writes = found
    detail = _plain(row._mapping)
    detail["writes"] = [
        {
            "id": w.id,
            "kind": w.kind,
            "state": w.state,
            "attempts": w.attempts,
            "last_error": w.last_error,
            "latency_seconds": (w.sent_at - w.created_at).total_seconds() if w.sent_at else None,
        }
        for w in writes
    ]
    return detail


def dead_letters(engine: Engine) -> list[dict[str, Any]]:
    """Every dead letter with its last error, newest first."""
    columns = ("id", "crm", "lead_id", "kind", "attempts", "last_error", "created_at")
    return [_plain({c: getattr(row, c) for c in columns}) for row in reversed(list_dead(engine))]


def _plain(mapping: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in dict(mapping).items()}


def as_json(value: Any) -> Any:
    """Dataclasses (and lists of them) as JSON-ready data."""
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return _moments_as_text(asdict(value))


def _moments_as_text(value: Any) -> Any:
    """Datetimes inside as ISO 8601 text (JSON's own encoder would write an HTTP date)."""
    if isinstance(value, dict):
        return {k: _moments_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_moments_as_text(v) for v in value]
    return value.isoformat() if isinstance(value, datetime) else value
