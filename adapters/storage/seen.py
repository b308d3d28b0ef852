"""What we last saw (or set) of each lead: its stage, pipeline and responsible — the yardstick an
update event is measured against to tell our own echo from a person's change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from adapters.storage.sql import upsert_many
from adapters.storage.tables import lead_seen
from core.model import Lead


def seen_row(crm: str, lead: Lead, responsible: int | None, now: datetime) -> dict[str, Any]:
    """The lead_seen values for a lead as it is now, with `responsible` as its owner."""
    return {
        "crm": crm,
        "lead_id": lead.id,
        "stage": lead.stage_id,
        "pipeline": lead.pipeline_id,
        "stage_name": lead.stage,
        "pipeline_name": lead.pipeline,
        "responsible": responsible,
        "updated_at": now,
    }


def remember_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store many `seen_row`s (insert or overwrite) in one executemany."""
    upsert_many(connection, lead_seen, ["crm", "lead_id"], list(rows))


def read_seen(connection: Connection, crm: str, lead_ids: Iterable[str]) -> dict[str, Any]:
    """The lead_seen rows of these leads, by lead id."""
    wanted = sorted(set(lead_ids))
    if not wanted:
        return {}
    query = select(lead_seen).where(lead_seen.c.crm == crm, lead_seen.c.lead_id.in_(wanted))
    return {row.lead_id: row for row in connection.execute(query)}


def seen_lead(connection: Connection, crm: str, lead_id: str) -> Any:
    """The lead_seen row of one lead, or None."""
    query = select(lead_seen).where(lead_seen.c.crm == crm, lead_seen.c.lead_id == lead_id)
    return connection.execute(query).first()


def update_seen(connection: Connection, crm: str, lead_id: str, values: Mapping[str, Any]) -> None:
    """Overwrite the given columns of a lead's lead_seen row."""
    connection.execute(
        lead_seen.update().where(lead_seen.c.crm == crm, lead_seen.c.lead_id == lead_id).values(**values)
    )


def seen_ids(connection: Connection, crm: str, lead_ids: Sequence[str]) -> set[str]:
    """Which of these leads have a lead_seen row."""
    query = select(lead_seen.c.lead_id).where(lead_seen.c.crm == crm, lead_seen.c.lead_id.in_(lead_ids))
    return set(connection.execute(query).scalars())


def seen_times(connection: Connection, crm: str, lead_ids: Sequence[str]) -> dict[str, datetime]:
    """When each of these leads' lead_seen row was last written, by lead id (leads without one left out)."""
    query = select(lead_seen.c.lead_id, lead_seen.c.updated_at).where(
        lead_seen.c.crm == crm, lead_seen.c.lead_id.in_(lead_ids)
    )
    return dict(connection.execute(query).all())
