"""A CRM outage as the queue sees it: since when the CRM fails us, and the work waiting for it.

A job that cannot reach the CRM is never given up on: it waits (state `pending`, its last error
starting with `WAITING`) and is tried again with a capped backoff. The outage itself is one `kv`
row per CRM, written when the first call fails and removed when a call succeeds again; removing
it makes everything that waits due at once, so nothing sits out a backoff after the CRM is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update

from adapters.storage import outbox as writes
from adapters.storage.queue import PENDING, WAITING
from adapters.storage.sql import insert_ignore
from adapters.storage.tables import jobs, kv, outbox


def _key(crm: str) -> str:
    return f"crm_down:{crm}"


@dataclass(frozen=True, slots=True)
class Outage:
    """The CRM has failed us since `since`; `jobs` jobs and `writes` CRM writes wait for it."""

    crm: str
    since: datetime
    jobs: int
    writes: int


def mark_down(connection: Connection, crm: str, now: datetime, error: str) -> bool:
    """Record that the CRM fails us from `now` on; True if this starts an outage (it was up)."""
    value = {"since": now.isoformat(), "error": error[:200]}
    # RETURNING, not rowcount: psycopg reports a row for an insert that ON CONFLICT dropped.
    statement = insert_ignore(connection, kv, ["key"], key=_key(crm), value=value, updated_at=now)
    return connection.execute(statement.returning(kv.c.key)).first() is not None


def mark_up(connection: Connection, crm: str, now: datetime) -> datetime | None:
    """End the CRM's outage, if any: every job and write waiting for it is due now. Returns when
    the outage began (None if there was none)."""
    row = connection.execute(select(kv.c.value).where(kv.c.key == _key(crm))).first()
    if row is None:
        return None
    connection.execute(delete(kv).where(kv.c.key == _key(crm)))
    connection.execute(
        update(jobs)
        .where(
            jobs.c.crm == crm,
            jobs.c.state == PENDING,
            jobs.c.run_at > now,
            jobs.c.last_error.like(f"{WAITING}%"),
        )
        .values(run_at=jobs.c.created_at, updated_at=now)  # due now, and in the order they came
    )
    connection.execute(
        update(outbox)
        .where(
            outbox.c.crm == crm,
            outbox.c.state == writes.PENDING,
            outbox.c.next_attempt_at > now,
            outbox.c.last_error.is_not(None),
        )
        .values(next_attempt_at=now)
    )
    return datetime.fromisoformat(row.value["since"])


def is_down(connection: Connection, crm: str) -> bool:
    """Whether an outage of this CRM is recorded (one primary-key read)."""
    return connection.execute(select(kv.c.key).where(kv.c.key == _key(crm))).first() is not None


def outages(connection: Connection) -> list[Outage]:
    """Every CRM that fails us now, with what waits for it (for the admin page, /healthz, /metrics)."""
    rows = connection.execute(select(kv.c.key, kv.c.value).where(kv.c.key.like("crm_down:%"))).all()
    result = []
    for row in rows:
        crm = row.key.split(":", 1)[1]
        waiting_jobs = connection.execute(
            select(func.count()).where(
                jobs.c.crm == crm, jobs.c.state == PENDING, jobs.c.last_error.like(f"{WAITING}%")
            )
        ).scalar_one()
        waiting_writes = connection.execute(
            select(func.count()).where(
                outbox.c.crm == crm, outbox.c.state == writes.PENDING, outbox.c.last_error.is_not(None)
            )
        ).scalar_one()
        since = datetime.fromisoformat(row.value["since"])
        result.append(Outage(crm, since, int(waiting_jobs), int(waiting_writes)))
    return result
