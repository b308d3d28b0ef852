"""What the admin page and the API read: the split by pool and member, and the decisions with the CRM
writes they caused. Each function runs in the caller's (read) transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, case, func, or_, select

from adapters.storage.tables import assignments, audit, lead_lives, outbox, split_adjustments


def split_counts(connection: Connection, starts: Mapping[str, datetime]) -> list[Any]:
    """New leads per (pool, manager) since each period's start (a column per period, named by it),
    then the overrides counted toward the new owner (overrides.count_toward_share) the same way."""
    columns = [
        func.sum(case((assignments.c.decided_at >= start, 1), else_=0)).label(p)
        for p, start in starts.items()
    ]
    query = (
        select(assignments.c.pool, assignments.c.manager, *columns)
        .where(assignments.c.purpose == "new", assignments.c.decided_at >= min(starts.values()))
        .group_by(assignments.c.pool, assignments.c.manager)
    )
    # A few rows, by date.
    moved = [
        func.sum(case((split_adjustments.c.decided_at >= start, split_adjustments.c.delta), else_=0)).label(p)
        for p, start in starts.items()
    ]
    adjustments = (
        select(split_adjustments.c.pool, split_adjustments.c.manager, *moved)
        .where(split_adjustments.c.decided_at >= min(starts.values()))
        .group_by(split_adjustments.c.pool, split_adjustments.c.manager)
    )
    return [*connection.execute(query), *connection.execute(adjustments)]


def find_decisions(
    connection: Connection,
    *,
    lead: str | None = None,
    manager: str | None = None,
    pool: str | None = None,
    rule: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[RowMapping]:
    """Decisions newest first (without their reasoning), filtered; `before_id` pages back."""
    query = select(
        assignments.c.id,
        assignments.c.crm,
        assignments.c.lead_id,
        assignments.c.purpose,
        assignments.c.manager,
        assignments.c.rule,
        assignments.c.pool,
        assignments.c.strategy,
        assignments.c.route,
        assignments.c.reason,
        assignments.c.config_version,
        assignments.c.decided_at,
    ).order_by(assignments.c.id.desc())
    filters = {
        assignments.c.lead_id: lead,
        assignments.c.manager: manager,
        assignments.c.pool: pool,
        assignments.c.rule: rule,
    }
    for column, value in filters.items():
        if value:
            query = query.where(column == value)
    if since is not None:
        query = query.where(assignments.c.decided_at >= since)
    if until is not None:
        query = query.where(assignments.c.decided_at < until)
    if before_id is not None:
        query = query.where(assignments.c.id < before_id)
    return [row._mapping for row in connection.execute(query.limit(limit))]


def decision_with_writes(connection: Connection, assignment_id: int) -> tuple[Any, Sequence[Any]] | None:
    """One assignment row and the outbox rows it caused (oldest first), or None if there is no such id."""
    row = connection.execute(select(assignments).where(assignments.c.id == assignment_id)).first()
    if row is None:
        return None
    writes = connection.execute(
        select(outbox).where(outbox.c.assignment_id == assignment_id).order_by(outbox.c.id)
    ).all()
    return row, writes


# What a lead's story leaves out of the audit: told from the assignment and outbox rows instead.
_TOLD_ELSEWHERE = ("decision", "handoff", "crm_write", "crm_retry", "dead_letter")


@dataclass(frozen=True)
class LeadRows:
    """Everything stored about one lead, each list oldest first."""

    audit: list[RowMapping]
    assignments: list[RowMapping]
    writes: list[RowMapping]
    life: dict[str, Any] | None


def lead_rows(connection: Connection, crm: str, lead_id: str, *, limit: int = 1000) -> LeadRows:
    """One lead's audit rows (but what the assignments and writes tell), its assignments, its CRM
    writes and its stored life, for the lead's story; at most `limit` of each (its first ones)."""
    trail = connection.execute(
        select(audit)
        .where(
            audit.c.lead_id == lead_id,
            or_(audit.c.crm == crm, audit.c.crm.is_(None)),
            audit.c.kind.not_in(_TOLD_ELSEWHERE),
        )
        .order_by(audit.c.at, audit.c.id)
        .limit(limit)
    )
    decided = connection.execute(
        select(assignments)
        .where(assignments.c.crm == crm, assignments.c.lead_id == lead_id)
        .order_by(assignments.c.decided_at, assignments.c.id)
        .limit(limit)
    )
    written = connection.execute(
        select(outbox)
        .where(outbox.c.lead_id == lead_id, outbox.c.crm == crm)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    where = (lead_lives.c.crm == crm, lead_lives.c.lead_id == lead_id)
    life = connection.execute(select(lead_lives.c.life).where(*where)).first()
    return LeadRows(
        audit=[row._mapping for row in trail],
        assignments=[row._mapping for row in decided],
        writes=[row._mapping for row in written],
        life=dict(life.life) if life is not None else None,
    )
