"""Intake: an incoming event becomes an inbox row, a job and an audit row in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from adapters.storage.audit import audit_row, write_audit_rows
from adapters.storage.queue import enqueue_many, job_row
from adapters.storage.sql import insert_ignore_statement
from adapters.storage.tables import inbox
from core.kinds import AuditKind, JobKind


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A parsed webhook event (or a reconciled lead) ready to be stored; no secrets inside."""

    crm: str
    dedup_key: str
    event: str
    lead_id: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    job_kind: JobKind | None = None
    action: str | None = None  # what happened, in the CRM-neutral words: add, update, status, delete…


def store_events(engine: Engine, events: Sequence[IncomingEvent], now: datetime) -> list[bool]:
    """Store events durably before we acknowledge them; False marks a redelivered duplicate."""
    return store_groups(engine, [events], now)[0]


def store_groups(
    engine: Engine, groups: Sequence[Sequence[IncomingEvent]], now: datetime
) -> list[list[bool]]:
    """Several requests' events in one transaction — one commit, one fsync (group commit)."""
    events = [event for group in groups for event in group]
    with engine.begin() as connection:
        fresh = _store_all(connection, events, now)
    results, position = [], 0
    for group in groups:
        results.append(fresh[position : position + len(group)])
        position += len(group)
    return results


def _store_all(connection: Connection, events: Sequence[IncomingEvent], now: datetime) -> list[bool]:
    """Inbox rows, jobs and audit rows for many events, one executemany each (an amoCRM POST
    carries up to 50 events, and a burst's echoes arrive that way)."""
    if not events:
        return []
    stmt = insert_ignore_statement(connection.dialect.name, inbox, ("dedup_key",), "dedup_key")
    rows = [
        {
            "crm": event.crm,
            "dedup_key": event.dedup_key,
            "event": event.event,
            "lead_id": event.lead_id,
            "payload": dict(event.payload),
            "received_at": now,
        }
        for event in events
    ]
    # RETURNING, not rowcount: drivers disagree on rowcount for an ignored INSERT. A key sent twice
    # in this batch is inserted once; its first event is the stored one, the other a duplicate.
    inserted = set(connection.execute(stmt, rows).scalars())
    fresh, jobs, audit = [], [], []
    for event in events:
        new = event.dedup_key in inserted
        inserted.discard(event.dedup_key)
        fresh.append(new)
        if new and event.job_kind is not None:
            jobs.append(job_row(event.job_kind, event.crm, event.lead_id, event.payload, now, now))
        kind, message = (
            (AuditKind.RECEIVED, "received") if new else (AuditKind.DUPLICATE, "redelivered, already stored")
        )
        detail = (
            {"event": event.event, "action": event.action or event.event, "dedup_key": event.dedup_key}
            if new
            else {"dedup_key": event.dedup_key}
        )
        audit.append(
            audit_row(
                kind, f"{event.event} {message}", at=now, crm=event.crm, lead_id=event.lead_id, detail=detail
            )
        )
    enqueue_many(connection, jobs)
    write_audit_rows(connection, audit)
    return fresh


def stored_leads(connection: Connection, crm: str, lead_ids: Sequence[str]) -> set[str]:
    """Which of these leads have at least one event in the inbox."""
    query = select(inbox.c.lead_id).where(inbox.c.crm == crm, inbox.c.lead_id.in_(lead_ids))
    return set(connection.execute(query).scalars())
