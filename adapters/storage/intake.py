"""Intake: an incoming event becomes an inbox row, a job and an audit row in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from adapters.storage.audit import write_audit
from adapters.storage.queue import enqueue
from adapters.storage.sql import insert_ignore_statement
from adapters.storage.tables import inbox


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A parsed webhook event (or a reconciled lead) ready to be stored; no secrets inside."""

    crm: str
    dedup_key: str
    event: str
    lead_id: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    job_kind: str | None = None


def store_events(engine: Engine, events: Sequence[IncomingEvent], now: datetime) -> list[bool]:
    """Store events durably before we acknowledge them; False marks a redelivered duplicate."""
    return store_groups(engine, [events], now)[0]


def store_groups(
    engine: Engine, groups: Sequence[Sequence[IncomingEvent]], now: datetime
) -> list[list[bool]]:
    """Several requests' events in one transaction — one commit, one fsync (group commit)."""
    with engine.begin() as connection:
        return [[_store_one(connection, event, now) for event in events] for events in groups]


def _store_one(connection: Connection, event: IncomingEvent, now: datetime) -> bool:
    stmt = insert_ignore_statement(connection.dialect.name, inbox, ("dedup_key",), "id")
    row = {
        "crm": event.crm,
        "dedup_key": event.dedup_key,
        "event": event.event,
        "lead_id": event.lead_id,
        "payload": dict(event.payload),
        "received_at": now,
    }
    # RETURNING, not rowcount: drivers disagree on rowcount for an ignored INSERT.
    if connection.execute(stmt, row).first() is None:
        write_audit(
            connection,
            "duplicate",
            f"{event.event} redelivered, already stored",
            at=now,
            crm=event.crm,
            lead_id=event.lead_id,
            detail={"dedup_key": event.dedup_key},
        )
        return False
    if event.job_kind is not None:
        enqueue(connection, event.job_kind, event.crm, event.lead_id, dict(event.payload), now, now)
    write_audit(
        connection,
        "received",
        f"{event.event} received",
        at=now,
        crm=event.crm,
        lead_id=event.lead_id,
        detail={"event": event.event, "dedup_key": event.dedup_key},
    )
    return True
