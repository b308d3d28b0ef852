"""Worker heartbeats (one row per worker, the time of its last pass) and the database's own liveness."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, text

from adapters.storage.sql import upsert
from adapters.storage.tables import heartbeats


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
