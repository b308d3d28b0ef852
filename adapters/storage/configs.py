"""Config versions in the database: the newest row is the config in force for every process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from adapters.storage.engine import reading
from adapters.storage.sql import upsert
from adapters.storage.tables import config_versions, kv


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """One config put in force: its hash, where it came from, its bytes, when and by what."""

    id: int
    version: str
    path: str
    source: bytes
    loaded_at: datetime
    loaded_by: str


def record_version(
    connection: Connection, version: str, path: str, source: bytes, at: datetime, by: str
) -> int:
    """Put a config in force (a new newest row) and return its id."""
    result = connection.execute(
        config_versions.insert().returning(config_versions.c.id),
        {"version": version, "path": path, "source": source, "loaded_at": at, "loaded_by": by},
    )
    return int(result.scalar_one())


def newest_id(engine: Engine) -> int | None:
    """The id of the config in force (None before any was recorded) — a cheap poll."""
    with reading(engine) as connection:
        value = connection.execute(select(func.max(config_versions.c.id))).scalar()
    return int(value) if value is not None else None


def newest(connection: Connection) -> ConfigVersion | None:
    """The config in force."""
    row = connection.execute(select(config_versions).order_by(config_versions.c.id.desc()).limit(1)).first()
    return ConfigVersion(**row._mapping) if row is not None else None


def get_version(engine: Engine, version_id: int) -> ConfigVersion | None:
    """One stored version by id."""
    with reading(engine) as connection:
        row = connection.execute(select(config_versions).where(config_versions.c.id == version_id)).first()
    return ConfigVersion(**row._mapping) if row is not None else None


def history(engine: Engine, limit: int = 50) -> list[ConfigVersion]:
    """Versions put in force, newest first."""
    query = select(config_versions).order_by(config_versions.c.id.desc()).limit(limit)
    with reading(engine) as connection:
        return [ConfigVersion(**row._mapping) for row in connection.execute(query)]


REFUSAL_KEY = "config.refusal"


def record_refusal(
    connection: Connection,
    at: datetime,
    by: str,
    error: str,
    version_in_force: str,
    *,
    fallback: Mapping[str, Any] | None = None,
) -> None:
    """Remember a refused config (shown on the page and counted in the metrics of every process).

    `fallback` says the processes run a stored version because the file on disk was refused at
    start-up (`file`, `since`, `running`); it stays on later refusals until `settle_fallback`.
    """
    previous = connection.execute(select(kv.c.value).where(kv.c.key == REFUSAL_KEY)).scalar()
    count = int(previous.get("count", 0)) + 1 if isinstance(previous, dict) else 1
    value = {"at": at.isoformat(), "by": by, "error": error, "kept": version_in_force, "count": count}
    standing = fallback or (previous.get("fallback") if isinstance(previous, dict) else None)
    if standing:
        value["fallback"] = dict(standing)
    connection.execute(upsert(connection, kv, ["key"], key=REFUSAL_KEY, value=value, updated_at=at))


def settle_fallback(connection: Connection, at: datetime) -> bool:
    """The file on disk loads again: no stored version stands in for it any more; True if one did."""
    value = connection.execute(select(kv.c.value).where(kv.c.key == REFUSAL_KEY)).scalar()
    if not isinstance(value, dict) or "fallback" not in value:
        return False
    rest = {k: v for k, v in value.items() if k != "fallback"}
    connection.execute(upsert(connection, kv, ["key"], key=REFUSAL_KEY, value=rest, updated_at=at))
    return True


def last_refusal(connection: Connection) -> dict[str, Any] | None:
    """The last refused config: at, by, error, kept (the version that stayed), count (all so far), and
    `fallback` while a stored version runs because the file was refused at start-up."""
    value = connection.execute(select(kv.c.value).where(kv.c.key == REFUSAL_KEY)).scalar()
    return dict(value) if isinstance(value, dict) else None
