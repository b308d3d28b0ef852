"""Engines for SQLite (the default) and PostgreSQL, with the settings each needs to be safe.

SQLite: WAL so readers never block the writer, a busy timeout instead of instant SQLITE_BUSY, and
`BEGIN IMMEDIATE` for every transaction — a deferred transaction that reads then writes can fail
with SQLITE_BUSY under two processes, which is exactly the read-modify-write we do everywhere.
`synchronous=FULL` makes every commit (the intake's above all) durable before we answer 200.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(engine: Engine) -> bool:
    """True for a SQLite engine."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL, configured for our transaction discipline."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level, so the "begin" hook below decides how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers opt out (see `reading`): they must not take the write lock and stall the worker.
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_WRITE_LOCKS: dict[int, threading.Lock] = {}


def writing(engine: Engine) -> AbstractContextManager[object]:
    """Serialise this process's writers on SQLite: threads queue on a lock instead of on SQLite's
    busy handler, whose sleeps (up to 100 ms each) would dominate the tail latency of a burst."""
    if not is_sqlite(engine):
        return nullcontext()
    return _WRITE_LOCKS.setdefault(id(engine), threading.Lock())


def reading(engine: Engine) -> Connection:
    """A connection for reads only: a deferred transaction on SQLite, so writers are never blocked."""
    return engine.connect().execution_options(read_only=True)
