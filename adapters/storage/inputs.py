"""Decision inputs: what each new-lead decision read, for what-if replays; purged by retention."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, func, select

from adapters.storage.engine import reading
from adapters.storage.history import pages
from adapters.storage.sql import upsert
from adapters.storage.tables import assignments, decision_inputs, inbox, kv, lead_events

_INBOX_MARK = "retention.inbox_blanked_upto"
READ_CHUNK = 2000  # rows per query while reading history: bounded memory, few round trips


def insert_inputs(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store the inputs of new assignments (each row carries its `assignment_id`)."""
    if rows:
        connection.execute(decision_inputs.insert(), list(rows))


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A past new-lead decision with its input: what really happened and what it was decided on."""

    assignment_id: int
    crm: str
    lead_id: str
    decided_at: datetime
    manager: str
    rule: str | None
    pool: str | None
    route: str
    config_version: str
    lead: Mapping[str, Any]
    state: Mapping[str, Any]
    purged: bool
    crm_user_id: int = 0  # the manager's CRM user, as the assignment wrote it
    strategy: str | None = None


def count_history(engine: Engine, since: datetime, until: datetime) -> int:
    """How many stored decisions with inputs fall in [since, until]."""
    query = select(func.count()).where(
        decision_inputs.c.decided_at >= since, decision_inputs.c.decided_at <= until
    )
    with reading(engine) as connection:
        return int(connection.execute(query).scalar_one())


def read_history(engine: Engine, since: datetime, until: datetime) -> Iterator[StoredDecision]:
    """Stored decisions with inputs in [since, until], in the order they were made, read in chunks."""
    query = (
        select(
            decision_inputs.c.assignment_id,
            decision_inputs.c.decided_at,
            decision_inputs.c.lead,
            decision_inputs.c.state,
            decision_inputs.c.personal_purged_at,
            assignments.c.crm,
            assignments.c.lead_id,
            assignments.c.manager,
            assignments.c.crm_user_id,
            assignments.c.rule,
            assignments.c.pool,
            assignments.c.strategy,
            assignments.c.route,
            assignments.c.config_version,
        )
        .join(assignments, assignments.c.id == decision_inputs.c.assignment_id)
        .where(decision_inputs.c.decided_at >= since, decision_inputs.c.decided_at <= until)
    )
    moment, key = decision_inputs.c.decided_at, decision_inputs.c.assignment_id
    for row in pages(engine, query, moment, key, READ_CHUNK):
        yield StoredDecision(
            assignment_id=int(row.assignment_id),
            crm=row.crm,
            lead_id=row.lead_id,
            decided_at=row.decided_at,
            manager=row.manager,
            rule=row.rule,
            pool=row.pool,
            route=row.route,
            config_version=row.config_version,
            lead=row.lead,
            state=row.state,
            purged=row.personal_purged_at is not None,
            crm_user_id=int(row.crm_user_id),
            strategy=row.strategy,
        )


@dataclass(frozen=True, slots=True)
class Purged:
    """What one retention pass removed."""

    inputs_deleted: int
    inputs_blanked: int
    webhooks_blanked: int
    events_deleted: int = 0  # lead_events: the updates told, kept for what-if like the inputs
    events_blanked: int = 0


def purge(
    engine: Engine,
    now: datetime,
    *,
    inputs_before: datetime,
    personal_before: datetime,
    blank: Callable[[Mapping[str, Any]], dict[str, Any]],
    chunk: int = 1000,
) -> Purged:
    """Delete inputs decided (and lead events handled) before `inputs_before`; blank personal data
    (`blank`) in both and in raw webhook bodies received before `personal_before`. Chunked: writers
    are not held up."""
    inputs = (decision_inputs, decision_inputs.c.assignment_id, decision_inputs.c.decided_at)
    events = (lead_events, lead_events.c.id, lead_events.c.at)
    deleted = _delete_before(engine, *inputs, inputs_before, chunk)
    events_deleted = _delete_before(engine, *events, inputs_before, chunk)
    blanked = _blank_before(engine, *inputs, personal_before, now, blank, chunk)
    events_blanked = _blank_before(engine, *events, personal_before, now, blank, chunk)
    webhooks = _blank_webhooks(engine, personal_before, now, chunk)
    return Purged(deleted, blanked, webhooks, events_deleted, events_blanked)


def _delete_before(
    engine: Engine, table: Table, key: Column[Any], moment: Column[Any], before: datetime, chunk: int
) -> int:
    deleted = 0
    while True:
        with engine.begin() as connection:
            ids = connection.execute(select(key).where(moment < before).limit(chunk)).scalars().all()
            if ids:
                connection.execute(table.delete().where(key.in_(ids)))
        deleted += len(ids)
        if len(ids) < chunk:
            return deleted


def _blank_before(
    engine: Engine,
    table: Table,
    key: Column[Any],
    moment: Column[Any],
    before: datetime,
    now: datetime,
    blank: Callable[[Mapping[str, Any]], dict[str, Any]],
    chunk: int,
) -> int:
    """Blank personal data in the stored leads of `table` from before `before` (once each)."""
    blanked = 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                select(key, table.c.lead)
                .where(moment < before, table.c.personal_purged_at.is_(None))
                .limit(chunk)
            ).all()
            for row in rows:
                connection.execute(
                    table.update().where(key == row[0]).values(lead=blank(row.lead), personal_purged_at=now)
                )
        blanked += len(rows)
        if len(rows) < chunk:
            return blanked


def _blank_webhooks(engine: Engine, before: datetime, now: datetime, chunk: int) -> int:
    """Raw webhook bodies are blanked, not deleted: the rows keep deduplicating and telling
    reconcile which leads were seen. A watermark in kv saves re-reading what was blanked."""
    webhooks = 0
    while True:
        with engine.begin() as connection:
            mark = connection.execute(select(kv.c.value).where(kv.c.key == _INBOX_MARK)).scalar()
            after = int(mark["id"]) if mark else 0
            ids = (
                connection.execute(
                    select(inbox.c.id)
                    .where(inbox.c.received_at < before, inbox.c.id > after)
                    .order_by(inbox.c.id)
                    .limit(chunk)
                )
                .scalars()
                .all()
            )
            if ids:
                connection.execute(inbox.update().where(inbox.c.id.in_(ids)).values(payload={}))
                connection.execute(
                    upsert(connection, kv, ["key"], key=_INBOX_MARK, value={"id": max(ids)}, updated_at=now)
                )
        webhooks += len(ids)
        if len(ids) < chunk:
            return webhooks
