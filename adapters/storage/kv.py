"""The `kv` table: small JSON values by key, shared by every process (rate-limit buckets, the amoCRM
gate, OAuth tokens, reconcile watermarks, what-if runs).

Every function runs inside the caller's transaction: open one with `engine.begin()` to write (on
SQLite that is BEGIN IMMEDIATE, which already holds the write lock), or `reading(engine)` to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from adapters.storage.sql import insert_ignore, locked, upsert
from adapters.storage.tables import kv


def read_value(connection: Connection, key: str) -> Any:
    """The value stored under `key`, or None when there is no such row."""
    return connection.execute(select(kv.c.value).where(kv.c.key == key)).scalar()


def lock_value(connection: Connection, key: str, *, must_exist: bool = False) -> Any:
    """The value under `key`, its row locked until the transaction ends (FOR UPDATE on PostgreSQL);
    None when there is no row, or NoResultFound if `must_exist`."""
    result = connection.execute(locked(connection, select(kv.c.value).where(kv.c.key == key)))
    return result.scalar_one() if must_exist else result.scalar()


def seed_value(connection: Connection, key: str, value: Any, at: datetime) -> None:
    """Store `value` under `key` unless a row is there already (then nothing changes)."""
    connection.execute(insert_ignore(connection, kv, ["key"], key=key, value=value, updated_at=at))


def write_value(connection: Connection, key: str, value: Any, at: datetime) -> None:
    """Overwrite the value of an existing row (no row: nothing happens)."""
    connection.execute(kv.update().where(kv.c.key == key).values(value=value, updated_at=at))


def put_value(connection: Connection, key: str, value: Any, at: datetime) -> None:
    """Store `value` under `key`, inserting the row or overwriting it."""
    connection.execute(upsert(connection, kv, ["key"], key=key, value=value, updated_at=at))


def read_entry(connection: Connection, key: str) -> Any:
    """The row under `key` as (value, updated_at), or None."""
    return connection.execute(select(kv.c.value, kv.c.updated_at).where(kv.c.key == key)).first()


def recent_entries(connection: Connection, prefix: str, *, limit: int) -> Sequence[Any]:
    """The `limit` latest rows whose key starts with `prefix`, as (value, updated_at), newest first."""
    query = (
        select(kv.c.value, kv.c.updated_at)
        .where(kv.c.key.startswith(prefix))
        .order_by(kv.c.updated_at.desc())
        .limit(limit)
    )
    return connection.execute(query).all()


def prune_entries(connection: Connection, prefix: str, *, keep: int, besides: str) -> None:
    """Delete the rows under `prefix` but the `keep` latest and the one under `besides`."""
    old = (
        connection.execute(
            select(kv.c.key)
            .where(kv.c.key.startswith(prefix), kv.c.key != besides)
            .order_by(kv.c.updated_at.desc(), kv.c.key)
            .offset(keep)
        )
        .scalars()
        .all()
    )
    if old:
        connection.execute(kv.delete().where(kv.c.key.in_(old)))


def entries_like(connection: Connection, *patterns: str) -> Sequence[Any]:
    """Every row whose key matches one of the LIKE `patterns`, as (key, value, updated_at)."""
    query = select(kv.c.key, kv.c.value, kv.c.updated_at).where(or_(*(kv.c.key.like(p) for p in patterns)))
    return connection.execute(query).all()
