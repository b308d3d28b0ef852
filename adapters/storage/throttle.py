"""Wrong admin tokens per client address, in the database, so every process sees the same count.

One `kv` row per address that failed lately (`throttle:<address>`): the moment and the token
fingerprint of each failure within the window. Rows past the window are pruned on every write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from adapters.storage.engine import reading
from adapters.storage.sql import insert_ignore, locked
from adapters.storage.tables import kv

PREFIX = "throttle:"


@dataclass(frozen=True, slots=True)
class Failure:
    """One wrong token: when, and the fingerprint of what was presented (never the token)."""

    at: datetime
    fingerprint: str


def recent_failures(engine: Engine, address: str, since: datetime) -> list[Failure]:
    """The wrong tokens from this address since `since`, oldest first."""
    with reading(engine) as connection:
        value = connection.execute(select(kv.c.value).where(kv.c.key == PREFIX + address)).scalar()
    return _since(value, since)


def record_failure(engine: Engine, address: str, fingerprint: str, at: datetime, window: timedelta) -> None:
    """Count one wrong token from this address (row-locked: concurrent failures all count)."""
    key = PREFIX + address
    with engine.begin() as connection:
        connection.execute(
            insert_ignore(connection, kv, ["key"], key=key, value={"failures": []}, updated_at=at)
        )
        value = connection.execute(locked(connection, select(kv.c.value).where(kv.c.key == key))).scalar()
        failures = [*_since(value, at - window), Failure(at, fingerprint)]
        stored = [{"at": f.at.isoformat(), "fp": f.fingerprint} for f in failures]
        connection.execute(
            kv.update().where(kv.c.key == key).values(value={"failures": stored}, updated_at=at)
        )
        _prune(connection, at - window)


def _prune(connection: Connection, before: datetime) -> None:
    connection.execute(kv.delete().where(kv.c.key.startswith(PREFIX), kv.c.updated_at < before))


def _since(value: Any, since: datetime) -> list[Failure]:
    if not isinstance(value, dict):
        return []
    failures = [Failure(datetime.fromisoformat(f["at"]), str(f["fp"])) for f in value.get("failures", [])]
    return [f for f in failures if f.at > since]
