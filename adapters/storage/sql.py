"""Dialect-specific SQL in one place: insert-or-ignore and row locks."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Insert, Select, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(connection: Connection, table: Table, conflict: list[str], **values: Any) -> Insert:
    """An INSERT that does nothing when a row with the same `conflict` columns exists."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    return sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)


@functools.cache
def insert_ignore_statement(dialect: str, table: Table, conflict: tuple[str, ...], returning: str) -> Insert:
    """A reusable INSERT … ON CONFLICT DO NOTHING RETURNING `returning`, executed with parameters."""
    if dialect == "postgresql":
        pg = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
        return pg.returning(table.c[returning])
    lite = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return lite.returning(table.c[returning])


def upsert(connection: Connection, table: Table, conflict: list[str], **values: Any) -> Insert:
    """An INSERT that overwrites the other columns of the row with the same `conflict` columns."""
    updates = {k: v for k, v in values.items() if k not in conflict}
    if connection.dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(**values)
        return stmt.on_conflict_do_update(index_elements=conflict, set_=updates)
    lite = sqlite.insert(table).values(**values)
    return lite.on_conflict_do_update(index_elements=conflict, set_=updates)


def locked(connection: Connection, query: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
    """`FOR UPDATE` on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the write lock."""
    if connection.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=skip_locked)
    return query


def upsert_many(
    connection: Connection, table: Table, conflict: list[str], rows: list[dict[str, Any]]
) -> None:
    """`upsert` for many rows (all with the same columns) in one executemany."""
    if not rows:
        return
    stmt = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in conflict}
    connection.execute(stmt.on_conflict_do_update(index_elements=conflict, set_=updates), rows)
