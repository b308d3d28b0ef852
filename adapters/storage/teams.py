"""The team as the CRM had it at the last sync, and the users it refused as owners since (`kv` rows).

Every process reads these to fold the team into its policy (webhook_app/config/team.py); the team
sync job writes the first, the outbox flusher the second when the CRM refuses an owner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from adapters.storage.kv import lock_value, put_value, read_entry
from core.model import UserId
from core.team import CrmPerson, Team


def _key(crm: str) -> str:
    return f"team:{crm}"


def _refused_key(crm: str) -> str:
    return f"team:{crm}:refused"


def read_team(connection: Connection, crm: str) -> tuple[Team, tuple[object, object]]:
    """The stored team and a stamp that changes whenever either row does (for cheap change checks)."""
    synced, refused = read_entry(connection, _key(crm)), read_entry(connection, _refused_key(crm))
    people = tuple(_person(p) for p in (synced.value.get("people") or [])) if synced is not None else ()
    users = (
        frozenset(int(u) for u in (refused.value.get("users") or [])) if refused is not None else frozenset()
    )
    stamp = (synced.updated_at if synced else None, refused.updated_at if refused else None)
    return Team(people, users), stamp


def save_team(connection: Connection, crm: str, people: list[CrmPerson], now: datetime) -> None:
    """Store a fresh sync; refusals recorded before it are settled by it (the CRM's list says it all)."""
    value = {"people": [_plain(p) for p in people], "synced_at": now.isoformat()}
    put_value(connection, _key(crm), value, now)
    put_value(connection, _refused_key(crm), {"users": []}, now)


def add_refused(connection: Connection, crm: str, user_id: UserId, now: datetime) -> bool:
    """Record that the CRM refused this user as an owner; False if it was already recorded."""
    current = lock_value(connection, _refused_key(crm)) or {}
    users = [int(u) for u in current.get("users") or []]
    if user_id in users:
        return False
    put_value(connection, _refused_key(crm), {"users": [*users, user_id]}, now)
    return True


def _plain(person: CrmPerson) -> dict[str, Any]:
    return {"id": person.user_id, "name": person.name, "active": person.active, "teams": list(person.teams)}


def _person(data: dict[str, Any]) -> CrmPerson:
    return CrmPerson(
        int(data["id"]), str(data.get("name") or ""), bool(data.get("active")), tuple(data.get("teams") or ())
    )
