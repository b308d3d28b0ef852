"""Worker heartbeats (one row per worker, the time of its last pass) and the database's own liveness."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, text

from adapters.storage.sql import upsert
from adapters.storage.tables import heartbeats, kv

WRITE_PROBE = "healthz:write_probe"  # the kv row /healthz rewrites to prove the database takes writes


def record_heartbeat(connection: Connection, worker: str, at: datetime) -> None:
    """Note that `worker` made a pass at `at` (inserting or overwriting its row)."""
    connection.execute(upsert(connection, heartbeats, ["worker"], worker=worker, seen_at=at))


def last_heartbeat(connection: Connection) -> datetime | None:
    """When any worker last made a pass, or None if none ever did."""
    value: datetime | None = connection.execute(select(func.max(heartbeats.c.seen_at))).scalar()
    return value


def ping(connection: Connection) -> None:
    """`SELECT 1`: raises if the database cannot be reached."""
    connection.execute(text("SELECT 1"))


def probe_write(connection: Connection, at: datetime) -> None:
    """Rewrite one small kv row, in the caller's transaction: raises if the database cannot write
    (a full disk, a read-only file, a role without write rights)."""
    connection.execute(
        upsert(connection, kv, ["key"], key=WRITE_PROBE, value={"at": at.isoformat()}, updated_at=at)
    )
