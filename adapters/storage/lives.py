"""Each routed lead's life (the lifecycle's state) and who holds each client, stored.

A lead routed before lives were stored (an upgraded database) gets its life rebuilt from its
assignments and what we last saw of it, the first time an event of it comes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from adapters.storage.sql import upsert_many
from adapters.storage.tables import assignments, client_owners, lead_events, lead_lives, lead_seen
from core.lifecycle_types import LeadLife, Share

_MOMENTS = ("written_at",)
_SETS = ("done",)
_TUPLES = ("sla_turns",)


def life_to_json(life: LeadLife) -> dict[str, Any]:
    """The life as JSON values."""
    out: dict[str, Any] = {}
    for name in LeadLife.__dataclass_fields__:
        value = getattr(life, name)
        if name in _MOMENTS:
            value = value.isoformat() if value is not None else None
        elif name in _SETS:
            value = sorted(value)
        elif name in _TUPLES:
            value = list(value)
        elif name == "share" and value is not None:
            value = {**dataclasses.asdict(value), "at": value.at.isoformat()}
        out[name] = value
    return out


def life_from_json(data: Mapping[str, Any]) -> LeadLife:
    """The life back from `life_to_json` (unknown keys from a later version are ignored)."""
    values: dict[str, Any] = {}
    for name in LeadLife.__dataclass_fields__:
        if name not in data:
            continue
        value = data[name]
        if name in _MOMENTS and value is not None:
            value = datetime.fromisoformat(value)
        elif name in _SETS:
            value = frozenset(value or ())
        elif name in _TUPLES:
            value = tuple(value or ())
        elif name == "share" and value is not None:
            value = Share(**{**value, "at": datetime.fromisoformat(value["at"])})
        values[name] = value
    return LeadLife(**values)


def life_row(crm: str, life: LeadLife, now: datetime) -> dict[str, Any]:
    """A lead_lives row, for `save_lives`."""
    return {"crm": crm, "lead_id": life.lead_id, "life": life_to_json(life), "updated_at": now}


def save_lives(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store many `life_row`s (insert or overwrite) in one executemany."""
    upsert_many(connection, lead_lives, ["crm", "lead_id"], list(rows))


def load_lives(connection: Connection, crm: str, lead_ids: Iterable[str]) -> dict[str, LeadLife]:
    """The lives of these leads, by lead id; rebuilt from the assignments for leads stored before."""
    wanted = sorted(set(lead_ids))
    if not wanted:
        return {}
    query = select(lead_lives.c.lead_id, lead_lives.c.life).where(
        lead_lives.c.crm == crm, lead_lives.c.lead_id.in_(wanted)
    )
    found = {row.lead_id: life_from_json(row.life) for row in connection.execute(query)}
    missing = [lead_id for lead_id in wanted if lead_id not in found]
    return {**found, **_rebuilt(connection, crm, missing)}


def _rebuilt(connection: Connection, crm: str, lead_ids: list[str]) -> dict[str, LeadLife]:
    """Lives of leads routed before lives were stored: their assignments, in order, and lead_seen."""
    if not lead_ids:
        return {}
    query = (
        select(assignments)
        .where(assignments.c.crm == crm, assignments.c.lead_id.in_(lead_ids))
        .order_by(assignments.c.decided_at, assignments.c.id)
    )
    rows: dict[str, list[Any]] = {}
    for row in connection.execute(query):
        rows.setdefault(row.lead_id, []).append(row)
    seen_query = select(lead_seen).where(lead_seen.c.crm == crm, lead_seen.c.lead_id.in_(list(rows)))
    seen = {row.lead_id: row for row in connection.execute(seen_query)} if rows else {}
    return {lead_id: _from_history(lead_id, history, seen.get(lead_id)) for lead_id, history in rows.items()}


def _from_history(lead_id: str, history: list[Any], seen: Any) -> LeadLife:
    first, last = history[0], history[-1]
    turns = tuple(row.manager for row in history if row.purpose == "new" or row.purpose.startswith("sla:"))
    return LeadLife(
        lead_id,
        owner=last.manager,
        owner_user=seen.responsible
        if seen is not None and seen.responsible is not None
        else last.crm_user_id,
        pool=first.pool,
        pipeline=seen.pipeline_name if seen is not None else None,
        stage=seen.stage_name if seen is not None else None,
        place=seen.stage if seen is not None else None,
        done=frozenset(row.purpose for row in history),
        sla_turns=turns,
        written_at=last.decided_at,
    )


def client_row(crm: str, client_key: str, manager: str | None, user: int, now: datetime) -> dict[str, Any]:
    """A client_owners row, for `save_clients`."""
    return {
        "crm": crm,
        "client_key": client_key[:120],
        "manager": manager,
        "crm_user_id": user,
        "seen_at": now,
    }


def save_clients(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store who holds each client now (insert or overwrite), one executemany."""
    upsert_many(connection, client_owners, ["crm", "client_key"], list(rows))


def client_holders(connection: Connection, crm: str, keys: Iterable[str]) -> dict[str, tuple[int, datetime]]:
    """Who holds these clients (CRM user, since when), by client key; clients never seen are absent."""
    wanted = sorted({key[:120] for key in keys})
    if not wanted:
        return {}
    query = select(client_owners).where(client_owners.c.crm == crm, client_owners.c.client_key.in_(wanted))
    return {row.client_key: (int(row.crm_user_id), row.seen_at) for row in connection.execute(query)}


def save_events(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store updates the lifecycle was told (rows with crm, lead_id, at, lead, changed_at, write_pending)."""
    if rows:
        connection.execute(lead_events.insert(), list(rows))
