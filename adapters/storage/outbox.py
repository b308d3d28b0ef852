"""The outbox: CRM writes decided in our transaction, sent later in batches, retried, dead-lettered.

A write is `pending` until a flusher leases it (`sending`), then `sent` or, after the last
attempt or a permanent refusal, `dead` — or `cancelled` when its lead was deleted in the CRM. A
flusher that dies mid-send leaves rows `sending`; their lease expires and they are sent again — CRM
writes are at-least-once (the responsible user is idempotent; a task tried before is first looked
for in the CRM, so it is not written twice; a note may, rarely, repeat after a crash).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, update

from adapters.storage.engine import reading
from adapters.storage.sql import locked
from adapters.storage.tables import outbox
from core.ports import CrmWrite, WriteKind

PENDING, SENDING, SENT, DEAD, CANCELLED = "pending", "sending", "sent", "dead", "cancelled"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A leased write with its bookkeeping."""

    id: int
    crm: str
    lead_id: str
    attempts: int
    write: CrmWrite


def write_to_payload(write: CrmWrite) -> dict[str, Any]:
    """A CrmWrite as JSON."""
    return {
        "kind": write.kind.value,
        "lead_id": write.lead_id,
        "user_id": write.user_id,
        "text": write.text,
        "due": write.due.isoformat() if write.due else None,
        "field_name": write.field_name,
        "field_value": write.field_value,
    }


def payload_to_write(payload: dict[str, Any]) -> CrmWrite:
    """A CrmWrite back from JSON."""
    due = payload.get("due")
    return CrmWrite(
        kind=WriteKind(payload["kind"]),
        lead_id=payload["lead_id"],
        user_id=payload.get("user_id"),
        text=payload.get("text", ""),
        due=datetime.fromisoformat(due) if due else None,
        field_name=payload.get("field_name"),
        field_value=payload.get("field_value"),
    )


def outbox_row(crm: str, write: CrmWrite, now: datetime, assignment_id: int | None) -> dict[str, Any]:
    """A queued write's values, for `enqueue_rows`."""
    return {
        "crm": crm,
        "lead_id": write.lead_id,
        "kind": write.kind.value,
        "payload": write_to_payload(write),
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "assignment_id": assignment_id,
        "created_at": now,
    }


def enqueue_writes(
    connection: Connection, crm: str, writes: Sequence[CrmWrite], now: datetime, assignment_id: int | None
) -> None:
    """Queue writes inside the decision's transaction."""
    enqueue_rows(connection, [outbox_row(crm, write, now, assignment_id) for write in writes])


def enqueue_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Queue many writes (from `outbox_row`) with one executemany, inside the caller's transaction."""
    if rows:
        connection.execute(outbox.insert(), list(rows))


def claim_writes(
    engine: Engine,
    crm: str,
    kind: WriteKind,
    now: datetime,
    lease: timedelta,
    limit: int,
    *,
    minimum: int = 1,
) -> list[OutboxItem]:
    """Lease up to `limit` due writes of one kind, oldest first; none unless `minimum` are due."""
    due = or_(
        and_(outbox.c.state == PENDING, outbox.c.next_attempt_at <= now),
        and_(outbox.c.state == SENDING, outbox.c.lease_expires < now),
    )
    query = select(outbox).where(outbox.c.crm == crm, outbox.c.kind == kind.value, due)
    if kind is not WriteKind.RESPONSIBLE:
        # A task or note waits until the lead's new owner is actually written: a task for someone
        # who is not (yet) the responsible, or a note announcing it, would mislead the team. If the
        # CRM refused that owner (a dead letter), its task and note wait with it: replaying the
        # dead letter sends them after it, and nothing is written for an owner the CRM refused.
        owner = outbox.alias("owner")
        # A responsible cancelled because the lead is gone holds them too, until the deletion is
        # recorded and cancels them (nothing is sent onto a deleted lead).
        refused = and_(owner.c.state.in_([DEAD, CANCELLED]), owner.c.assignment_id == outbox.c.assignment_id)
        unsettled = select(owner.c.id).where(
            owner.c.crm == outbox.c.crm,
            owner.c.lead_id == outbox.c.lead_id,
            owner.c.kind == WriteKind.RESPONSIBLE.value,
            or_(owner.c.state.in_([PENDING, SENDING]), refused),
        )
        query = query.where(~unsettled.exists())
    query = query.order_by(outbox.c.id).limit(limit)
    with engine.begin() as connection:
        rows = connection.execute(locked(connection, query, skip_locked=True)).all()
        if len(rows) < minimum:
            return []
        if rows:
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(state=SENDING, lease_expires=now + lease, attempts=outbox.c.attempts + 1)
            )
    return [OutboxItem(r.id, r.crm, r.lead_id, r.attempts + 1, payload_to_write(r.payload)) for r in rows]


def mark_sent(connection: Connection, item: OutboxItem, now: datetime) -> None:
    """The CRM accepted the write."""
    connection.execute(
        update(outbox).where(outbox.c.id == item.id).values(state=SENT, sent_at=now, last_error=None)
    )


def mark_sent_many(connection: Connection, items: Sequence[OutboxItem], now: datetime) -> None:
    """The CRM accepted these writes: one statement for the lot."""
    if items:
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([item.id for item in items]))
            .values(state=SENT, sent_at=now, last_error=None)
        )


def mark_retry(connection: Connection, item: OutboxItem, at: datetime, error: str) -> None:
    """The write failed for now; try again at `at`."""
    connection.execute(
        update(outbox)
        .where(outbox.c.id == item.id)
        .values(state=PENDING, next_attempt_at=at, lease_expires=None, last_error=error)
    )


def mark_dead(connection: Connection, item: OutboxItem, error: str) -> None:
    """The write failed for good: a dead letter, visible and replayable."""
    connection.execute(
        update(outbox).where(outbox.c.id == item.id).values(state=DEAD, lease_expires=None, last_error=error)
    )


def mark_cancelled(connection: Connection, item: OutboxItem, error: str) -> None:
    """The CRM refused the write because the lead is gone: not a dead letter, nothing to replay."""
    connection.execute(
        update(outbox)
        .where(outbox.c.id == item.id)
        .values(state=CANCELLED, lease_expires=None, last_error=error)
    )


def cancel_writes(connection: Connection, crm: str, lead_id: str) -> int:
    """Cancel a deleted lead's writes not sent yet (and its dead letters: nothing can land on a lead
    that is gone); a write being sent right now settles by the CRM's answer. Returns how many."""
    result = connection.execute(
        update(outbox)
        .where(outbox.c.crm == crm, outbox.c.lead_id == lead_id, outbox.c.state.in_([PENDING, DEAD]))
        .values(state=CANCELLED, lease_expires=None)
    )
    return int(result.rowcount or 0)


def list_dead(engine: Engine) -> list[Any]:
    """Every dead letter, oldest first."""
    with reading(engine) as connection:
        return list(connection.execute(select(outbox).where(outbox.c.state == DEAD).order_by(outbox.c.id)))


def replay(connection: Connection, ids: Sequence[int] | None, now: datetime) -> list[Any]:
    """Put dead letters (all, or the given ids) back in the queue with fresh attempts."""
    query = select(outbox).where(outbox.c.state == DEAD)
    if ids is not None:
        query = query.where(outbox.c.id.in_(list(ids)))
    rows = list(connection.execute(query.order_by(outbox.c.id)))
    if rows:
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([r.id for r in rows]))
            .values(state=PENDING, attempts=0, next_attempt_at=now, lease_expires=None)
        )
    return rows


def outbox_counts(connection: Connection) -> dict[str, int]:
    """Writes by state."""
    rows = connection.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
    return {state: count for state, count in rows}


def pending_write(connection: Connection, crm: str, lead_id: str, kind: WriteKind) -> bool:
    """True while a write of this kind for the lead has not been confirmed by the CRM."""
    query = select(func.count()).where(
        outbox.c.crm == crm,
        outbox.c.lead_id == lead_id,
        outbox.c.kind == kind.value,
        outbox.c.state.in_([PENDING, SENDING]),
    )
    return bool(connection.execute(query).scalar())


def pending_leads(connection: Connection, crm: str, lead_ids: Sequence[str], kind: WriteKind) -> set[str]:
    """Which of these leads have a write of this kind the CRM has not confirmed (`pending_write` for many)."""
    if not lead_ids:
        return set()
    query = select(outbox.c.lead_id).where(
        outbox.c.crm == crm,
        outbox.c.lead_id.in_(sorted(set(lead_ids))),
        outbox.c.kind == kind.value,
        outbox.c.state.in_([PENDING, SENDING]),
    )
    return set(connection.execute(query).scalars())
