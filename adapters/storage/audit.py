"""The audit log: every event, decision and CRM write, queryable by lead, manager and time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from adapters.storage.engine import reading
from adapters.storage.tables import audit
from core.kinds import AuditKind


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the audit log."""

    id: int
    at: datetime
    kind: str
    crm: str | None
    lead_id: str | None
    manager: str | None
    config_version: str | None
    message: str
    detail: Mapping[str, Any]


def audit_row(
    kind: AuditKind,
    message: str,
    *,
    at: datetime,
    crm: str | None = None,
    lead_id: str | None = None,
    manager: str | None = None,
    config_version: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row's values, for `write_audit_rows`."""
    return {
        "at": at,
        "kind": kind,
        "crm": crm,
        "lead_id": lead_id,
        "manager": manager,
        "config_version": config_version,
        "message": message,
        "detail": dict(detail or {}),
    }


def write_audit(
    connection: Connection,
    kind: AuditKind,
    message: str,
    *,
    at: datetime,
    crm: str | None = None,
    lead_id: str | None = None,
    manager: str | None = None,
    config_version: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one audit row inside the caller's transaction."""
    row = audit_row(
        kind,
        message,
        at=at,
        crm=crm,
        lead_id=lead_id,
        manager=manager,
        config_version=config_version,
        detail=detail,
    )
    # Parameters, not .values(): the compiled INSERT is then cached — this runs on every webhook.
    connection.execute(audit.insert(), row)


def write_audit_rows(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append many audit rows (from `audit_row`) with one executemany, inside the caller's transaction."""
    if rows:
        connection.execute(audit.insert(), list(rows))


def read_audit(
    engine: Engine,
    *,
    lead_id: str | None = None,
    manager: str | None = None,
    since: datetime | None = None,
    kinds: tuple[str, ...] = (),
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit rows, oldest first, filtered by lead, manager, time and kind."""
    query = select(audit).order_by(audit.c.at, audit.c.id)
    if lead_id is not None:
        query = query.where(audit.c.lead_id == lead_id)
    if manager is not None:
        query = query.where(audit.c.manager == manager)
    if since is not None:
        query = query.where(audit.c.at >= since)
    if kinds:
        query = query.where(audit.c.kind.in_(kinds))
    if limit is not None:
        query = query.limit(limit)
    with reading(engine) as connection:
        return [AuditEntry(**row._mapping) for row in connection.execute(query)]
