"""Pauses switched on by hand (CLI, admin page, API): stored here, not in the YAML, read by every worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from adapters.storage.sql import upsert
from adapters.storage.tables import pauses
from core.state import Pause


def pause_manager(
    connection: Connection, manager: str, until: datetime | None, reason: str, by: str, at: datetime
) -> None:
    """Pause a manager (replacing an earlier pause of theirs)."""
    values = {"manager": manager, "until": until, "reason": reason, "created_by": by, "created_at": at}
    connection.execute(upsert(connection, pauses, ["manager"], **values))


def resume_manager(connection: Connection, manager: str) -> bool:
    """End a manager's pause; False if they were not paused."""
    return bool(connection.execute(delete(pauses).where(pauses.c.manager == manager)).rowcount)


def current_pauses(connection: Connection) -> dict[str, Pause]:
    """Every stored pause by manager (expired ones included: `Pause.active_at` tells)."""
    return {r.manager: Pause(r.until, r.reason) for r in connection.execute(select(pauses))}
