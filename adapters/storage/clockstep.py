"""The last forward step of the wall clock a worker noticed (kv `clock:step`), for /healthz and so
that several workers that noticed the same step record and audit it once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from adapters.storage.kv import lock_value, put_value, read_value

KEY = "clock:step"


def claim_step(connection: Connection, now: datetime, seconds: float, within: timedelta, size: float) -> bool:
    """Record a step noticed at `now` unless one of about the same size (± `size` seconds) was
    recorded within `within` of it (another worker's sight of the same step); True when this one
    is new. Locks the row until the transaction ends."""
    last = lock_value(connection, KEY)
    if isinstance(last, dict):
        at = datetime.fromisoformat(str(last.get("at")))
        if abs(now - at) <= within and abs(float(last.get("seconds", 0)) - seconds) <= size:
            return False
    put_value(connection, KEY, {"at": now.isoformat(), "seconds": round(seconds), "timers": 0}, now)
    return True


def note_shifted(connection: Connection, now: datetime, timers: int) -> None:
    """How many timers the recorded step moved."""
    value = read_value(connection, KEY)
    if isinstance(value, dict):
        put_value(connection, KEY, {**value, "timers": int(value.get("timers", 0)) + timers}, now)


def last_step(connection: Connection) -> dict[str, Any] | None:
    """The last step recorded: {at, seconds, timers}, or None."""
    value = read_value(connection, KEY)
    return dict(value) if isinstance(value, dict) else None
