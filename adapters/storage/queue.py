"""The job queue: one table, claimed with a lease so a crashed worker's job is taken again.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED` so workers never wait on each other; SQLite's
`BEGIN IMMEDIATE` makes the select-then-update atomic. Finishing a job checks the lease is still
ours, inside the same transaction as the job's effects: a worker that lost its lease (it stalled
past expiry and someone else took the job) rolls its work back instead of doing it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Interval, and_, case, func, literal, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from adapters.storage.engine import reading
from adapters.storage.sql import locked
from adapters.storage.tables import jobs
from core.kinds import JobKind

PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"
WAITING = "waiting for the CRM"  # the prefix of the last error of a job waiting out an outage


class LeaseLost(Exception):
    """The job's lease expired and another worker owns it now: roll back, do nothing."""


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job."""

    id: int
    kind: str
    crm: str
    lead_id: str | None
    payload: Mapping[str, Any]
    attempts: int
    run_at: datetime
    created_at: datetime | None = None


def job_row(
    kind: JobKind,
    crm: str,
    lead_id: str | None,
    payload: Mapping[str, Any],
    run_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """A new job's values, for `enqueue_many`."""
    return {
        "kind": kind,
        "crm": crm,
        "lead_id": lead_id,
        "payload": dict(payload),
        "state": PENDING,
        "attempts": 0,
        "run_at": run_at,
        "created_at": now,
        "updated_at": now,
    }


def enqueue(
    connection: Connection,
    kind: JobKind,
    crm: str,
    lead_id: str | None,
    payload: Mapping[str, Any],
    run_at: datetime,
    now: datetime,
) -> None:
    """Add a job, due at `run_at`, inside the caller's transaction."""
    connection.execute(jobs.insert(), job_row(kind, crm, lead_id, payload, run_at, now))


def enqueue_many(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add many jobs (from `job_row`) with one executemany, inside the caller's transaction."""
    if rows:
        connection.execute(jobs.insert(), list(rows))


def claim_jobs(
    engine: Engine,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    *,
    cut: Callable[[list[Job]], int] | None = None,
) -> list[Job]:
    """Take up to `limit` due jobs (or jobs whose lease expired) for this worker, oldest first;
    given `cut`, only the first `cut(due jobs)` of them."""
    due = or_(
        and_(jobs.c.state == PENDING, jobs.c.run_at <= now),
        and_(jobs.c.state == RUNNING, jobs.c.lease_expires < now),
    )
    with engine.begin() as connection:
        query = select(jobs).where(due).order_by(jobs.c.run_at, jobs.c.id).limit(limit)
        rows = connection.execute(locked(connection, query, skip_locked=True)).all()
        found = [
            Job(r.id, r.kind, r.crm, r.lead_id, r.payload, r.attempts + 1, r.run_at, r.created_at)
            for r in rows
        ]
        taken = found[: cut(found)] if cut is not None and found else found
        if not taken:
            return []
        connection.execute(
            update(jobs)
            .where(jobs.c.id.in_([job.id for job in taken]))
            .values(
                state=RUNNING,
                lease_owner=worker,
                lease_expires=now + lease,
                attempts=jobs.c.attempts + 1,
                updated_at=now,
            )
        )
    return taken


def _finish(connection: Connection, job: Job, worker: str, now: datetime, **values: Any) -> None:
    result = connection.execute(
        update(jobs)
        .where(jobs.c.id == job.id, jobs.c.state == RUNNING, jobs.c.lease_owner == worker)
        .values(updated_at=now, lease_owner=None, lease_expires=None, **values)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"job {job.id} is no longer leased to {worker}")


def complete(connection: Connection, job: Job, worker: str, now: datetime) -> None:
    """Mark the job done, in the transaction that stored its effects."""
    _finish(connection, job, worker, now, state=DONE, last_error=None)


def complete_many(connection: Connection, done: Sequence[Job], worker: str, now: datetime) -> None:
    """Mark many jobs done in one statement; LeaseLost (roll back) unless every one is still ours."""
    if not done:
        return
    ids = [job.id for job in done]
    result = connection.execute(
        update(jobs)
        .where(jobs.c.id.in_(ids), jobs.c.state == RUNNING, jobs.c.lease_owner == worker)
        .values(state=DONE, last_error=None, updated_at=now, lease_owner=None, lease_expires=None)
    )
    if result.rowcount != len(set(ids)):
        raise LeaseLost(f"{len(set(ids)) - result.rowcount} of {len(ids)} jobs no longer leased to {worker}")


def reschedule(connection: Connection, job: Job, worker: str, now: datetime, run_at: datetime) -> None:
    """Put the job back to run at `run_at` (waiting for a shift, a scheduled check)."""
    _finish(connection, job, worker, now, state=PENDING, run_at=run_at, attempts=0)


def retry_or_fail(
    connection: Connection,
    job: Job,
    worker: str,
    now: datetime,
    error: str,
    *,
    delay: timedelta,
    max_attempts: int,
) -> bool:
    """After an error: try again after `delay`, or mark the job failed after `max_attempts`."""
    if job.attempts >= max_attempts:
        _finish(connection, job, worker, now, state=FAILED, last_error=error)
        return False
    _finish(connection, job, worker, now, state=PENDING, run_at=now + delay, last_error=error)
    return True


def wait_for_crm(
    connection: Connection, job: Job, worker: str, now: datetime, run_at: datetime, error: str
) -> None:
    """The CRM could not be reached: try the job again at `run_at`, however long that takes (a lead
    is never given up on for an outage). The error is kept, marked as waiting, for the views."""
    _finish(connection, job, worker, now, state=PENDING, run_at=run_at, last_error=f"{WAITING}: {error}")


def cancel_pending(connection: Connection, crm: str, lead_id: str | None, now: datetime) -> int:
    """Cancel a lead's pending jobs (it was deleted in the CRM), inside the caller's transaction;
    returns how many."""
    result = connection.execute(
        update(jobs)
        .where(jobs.c.crm == crm, jobs.c.lead_id == lead_id, jobs.c.state == PENDING)
        .values(state=CANCELLED, updated_at=now)
    )
    return int(result.rowcount or 0)


def shift_timers(
    connection: Connection, kinds: Sequence[JobKind], set_before: datetime, by: timedelta, now: datetime
) -> int:
    """Move pending timers of `kinds` last written at or before `set_before` later by `by`, in one
    UPDATE (the wall clock jumped ahead; time did not pass). A row it moves is written at `now`, so a
    second worker that saw the same jump moves nothing again. Returns how many moved."""
    result = connection.execute(
        update(jobs)
        .where(jobs.c.state == PENDING, jobs.c.kind.in_(list(kinds)), jobs.c.updated_at <= set_before)
        .values(run_at=_later(connection, by), updated_at=now)
    )
    return int(result.rowcount or 0)


def _later(connection: Connection, by: timedelta) -> ColumnElement[Any]:
    """`run_at + by` in SQL. SQLite keeps moments as text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), so the
    sum is written back in that form (to the millisecond, padded) and compares as text still does."""
    if connection.dialect.name == "sqlite":
        moved = func.strftime("%Y-%m-%d %H:%M:%f", jobs.c.run_at, f"{by.total_seconds():+.3f} seconds")
        return moved.op("||")("000")
    return jobs.c.run_at + literal(by, Interval())


def has_open_job(connection: Connection, kind: JobKind, crm: str) -> bool:
    """Whether a job of this kind for this CRM is waiting or running."""
    query = select(jobs.c.id).where(
        jobs.c.kind == kind, jobs.c.crm == crm, jobs.c.state.in_([PENDING, RUNNING])
    )
    return connection.execute(query).first() is not None


def due_now(connection: Connection, kind: JobKind, crm: str, now: datetime) -> None:
    """Make a waiting job of this kind for this CRM due at `now` (if it was due later)."""
    connection.execute(
        update(jobs)
        .where(jobs.c.kind == kind, jobs.c.crm == crm, jobs.c.state == PENDING, jobs.c.run_at > now)
        .values(run_at=now, updated_at=now)
    )


def ensure_job(
    connection: Connection, kind: JobKind, crm: str, now: datetime, *, at_once: bool = False
) -> None:
    """Queue a periodic job of this kind for this CRM unless one is waiting or running (it must never
    die); `at_once` also makes a waiting one due now."""
    if not has_open_job(connection, kind, crm):
        enqueue(connection, kind, crm, None, {}, now, now)
    elif at_once:
        due_now(connection, kind, crm, now)


def job_counts(connection: Connection) -> dict[str, int]:
    """Jobs by state (for /metrics and /healthz)."""
    rows = connection.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state))
    return {state: count for state, count in rows}


def due_and_later(connection: Connection, now: datetime) -> tuple[int, int]:
    """Jobs due now (pending and due, or running) and jobs set for later (timers not yet due)."""
    due = or_(and_(jobs.c.state == PENDING, jobs.c.run_at <= now), jobs.c.state == RUNNING)
    later = and_(jobs.c.state == PENDING, jobs.c.run_at > now)
    query = select(
        func.coalesce(func.sum(case((due, 1), else_=0)), 0),
        func.coalesce(func.sum(case((later, 1), else_=0)), 0),
    ).where(jobs.c.state.in_((PENDING, RUNNING)))
    row = connection.execute(query).one()
    return int(row[0]), int(row[1])


def scheduled_jobs(connection: Connection, now: datetime, limit: int = 20) -> list[Any]:
    """The next jobs set for later (kind, lead id, run_at), soonest first."""
    query = (
        select(jobs.c.kind, jobs.c.lead_id, jobs.c.run_at)
        .where(jobs.c.state == PENDING, jobs.c.run_at > now)
        .order_by(jobs.c.run_at, jobs.c.id)
        .limit(limit)
    )
    return list(connection.execute(query))


def oldest_pending(connection: Connection, now: datetime) -> datetime | None:
    """The run_at of the oldest due job that has not run yet."""
    query = select(func.min(jobs.c.run_at)).where(jobs.c.state == PENDING, jobs.c.run_at <= now)
    value: datetime | None = connection.execute(query).scalar()
    return value


def leads_in_flight(engine: Engine, now: datetime) -> bool:
    """Whether a new lead is due or being decided, by any worker: its CRM writes are on their way."""
    query = select(jobs.c.id).where(
        jobs.c.kind == "lead",
        or_(and_(jobs.c.state == PENDING, jobs.c.run_at <= now), jobs.c.state == RUNNING),
    )
    with reading(engine) as connection:
        return connection.execute(query.limit(1)).first() is not None
