"""Engines for SQLite (the default) and PostgreSQL, with the settings each needs to be safe.

SQLite: WAL so readers never block the writer, a busy timeout instead of instant SQLITE_BUSY, and
`BEGIN IMMEDIATE` for every transaction — a deferred transaction that reads then writes can fail
with SQLITE_BUSY under two processes, which is exactly the read-modify-write we do everywhere.
`synchronous=FULL` makes every commit (the intake's above all) durable before we answer 200.

Writers of every process queue on one file lock (`DB-writers`, beside `-wal` and `-shm`) taken at
`BEGIN IMMEDIATE` and released after the commit or rollback: the kernel wakes the next writer the
moment the lock is free, where SQLite's busy handler would poll with sleeps of up to 100 ms — which
is what made a second gunicorn process, or a worker beside the web app, stretch the intake's tail.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
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
        arguments: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            arguments["factory"] = _LockingConnection
        engine = create_engine(parsed, connect_args=arguments, **kwargs)
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
        if not read_only:
            dbapi = connection.connection.dbapi_connection
            if isinstance(dbapi, _LockingConnection):
                dbapi.take_write_lock()
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class _WriterLock:
    """One database's writer lock in this process: a thread lock, then the file lock between processes.

    Reentrant per thread (a nested write transaction waits on SQLite itself, as before), and
    per process: a forked child opens its own file, since a lock on an inherited one is shared.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.threads = threading.RLock()
        self.depth = 0
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        """Wait for this process's other writers, then for other processes' writers."""
        self.threads.acquire()
        if self.depth == 0:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            except BaseException:
                self.threads.release()
                raise
        self.depth += 1

    def release(self) -> None:
        """Let the next writer in."""
        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.threads.release()


_WRITER_LOCKS: dict[tuple[int, str], _WriterLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(database: str) -> _WriterLock:
    path = os.path.abspath(database) + "-writers"
    key = (os.getpid(), path)
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(key)
        if lock is None:
            lock = _WRITER_LOCKS[key] = _WriterLock(path)
        return lock


class _LockingConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions hold the database's writer lock until they end."""

    def __init__(self, database: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._database = database
        self._holding: _WriterLock | None = None

    def take_write_lock(self) -> None:
        """Called just before `BEGIN IMMEDIATE`."""
        if self._holding is None:
            lock = _writer_lock(self._database)
            lock.acquire()
            self._holding = lock

    def _let_go(self) -> None:
        lock, self._holding = self._holding, None
        if lock is not None:
            lock.release()

    def commit(self) -> None:
        """Commit, then release the writer lock (a failed commit still releases it)."""
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        """Roll back, then release the writer lock."""
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        """Close; a transaction left open ends here, and so does its hold on the lock."""
        try:
            super().close()
        finally:
            self._let_go()


def reading(engine: Engine) -> Connection:
    """A connection for reads only: a deferred transaction on SQLite, so writers are never blocked."""
    return engine.connect().execution_options(read_only=True)
