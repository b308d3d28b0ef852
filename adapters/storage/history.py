"""What really happened to the leads of a period, for what-if: the updates the lifecycle was told
and the assignments after each lead's first (handoffs, SLA re-routes, returns). Read in time order,
in chunks: memory stays bounded however long the period."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, func, select

from adapters.storage.engine import reading
from adapters.storage.tables import assignments, jobs, lead_events

READ_CHUNK = 2000  # rows per query: bounded memory, few round trips


def pages(
    engine: Engine, query: Select[Any], moment: ColumnElement[Any], key: ColumnElement[Any], chunk: int
) -> Iterator[Any]:
    """The rows of `query` in (`moment`, `key`) order, `chunk` at a time (keyset paging)."""
    after: tuple[datetime, int] | None = None
    ordered = query.order_by(moment, key)
    while True:
        page = ordered.limit(chunk)
        if after is not None:
            page = page.where((moment > after[0]) | and_(moment == after[0], key > after[1]))
        with reading(engine) as connection:
            rows = connection.execute(page).all()
        yield from rows
        if len(rows) < chunk:
            return
        after = (rows[-1]._mapping[moment.name], int(rows[-1]._mapping[key.name]))


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An update the lifecycle was told: the lead as read, when the CRM says it changed, and whether
    our own responsible write was still on its way (handled at `at`)."""

    id: int
    crm: str
    lead_id: str
    at: datetime
    lead: Mapping[str, Any]
    changed_at: datetime | None
    write_pending: bool


def read_events(engine: Engine, since: datetime, until: datetime) -> Iterator[StoredEvent]:
    """The updates handled in [since, until], in the order they were handled."""
    query = select(lead_events).where(lead_events.c.at >= since, lead_events.c.at <= until)
    for row in pages(engine, query, lead_events.c.at, lead_events.c.id, READ_CHUNK):
        yield StoredEvent(
            int(row.id), row.crm, row.lead_id, row.at, row.lead, row.changed_at, bool(row.write_pending)
        )


def count_events(engine: Engine, since: datetime, until: datetime) -> int:
    """How many updates were handled in [since, until]."""
    query = select(func.count()).where(lead_events.c.at >= since, lead_events.c.at <= until)
    with reading(engine) as connection:
        return int(connection.execute(query).scalar_one())


@dataclass(frozen=True, slots=True)
class StoredHandoff:
    """An assignment after a lead's first: a handoff by name, `sla:N`, or `return`."""

    id: int
    crm: str
    lead_id: str
    purpose: str
    decided_at: datetime
    manager: str
    crm_user_id: int
    route: str
    pool: str | None


def read_handoffs(engine: Engine, since: datetime, until: datetime) -> Iterator[StoredHandoff]:
    """The assignments other than new leads' made in [since, until], in the order they were made."""
    columns = [assignments.c[name] for name in StoredHandoff.__dataclass_fields__]
    query = select(*columns).where(
        assignments.c.purpose != "new", assignments.c.decided_at >= since, assignments.c.decided_at <= until
    )
    for row in pages(engine, query, assignments.c.decided_at, assignments.c.id, READ_CHUNK):
        yield StoredHandoff(**{**row._mapping, "id": int(row.id), "crm_user_id": int(row.crm_user_id)})


TIMERS = ("sla", "after_days", "return")
RingKey = tuple[str, str, frozenset[tuple[str, str]]]  # (lead id, kind, data)


def read_rings(engine: Engine, since: datetime, until: datetime) -> dict[RingKey, list[datetime | None]]:
    """When the worker really ran each timer set in [since, until]: by lead, kind and data, in the
    order they were set; None for one that never ran (still pending, cancelled, failed)."""
    query = select(
        jobs.c.id,
        jobs.c.lead_id,
        jobs.c.kind,
        jobs.c.payload,
        jobs.c.state,
        jobs.c.created_at,
        jobs.c.updated_at,
    ).where(jobs.c.kind.in_(TIMERS), jobs.c.created_at >= since, jobs.c.created_at <= until)
    rings: dict[RingKey, list[datetime | None]] = {}
    for row in pages(engine, query, jobs.c.created_at, jobs.c.id, READ_CHUNK):
        data = frozenset((str(k), "" if v is None else str(v)) for k, v in (row.payload or {}).items())
        rings.setdefault((row.lead_id or "", row.kind, data), []).append(
            row.updated_at if row.state == "done" else None
        )
    return rings
