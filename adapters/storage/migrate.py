"""Create or upgrade the schema to the newest migration, on the engine we are given.

Processes started together on a fresh database (a deploy, a reboot) would otherwise run the same
migrations at once and collide (PostgreSQL: `UniqueViolation` on `pg_type_typname_nsp_index`), so
the whole upgrade runs under one lock and Alembic reads the current revision only once it holds it:
the first process upgrades, the others wait, then find the schema at head and do nothing.

- PostgreSQL: `pg_advisory_xact_lock` on a fixed key, taken first in the transaction Alembic runs
  in (on the same connection) and released by its commit or rollback, so it can never be left held.
- SQLite: the transaction is `BEGIN IMMEDIATE` and takes the writers' file lock (see `engine`), the
  one every SQLite writer of every process waits on; SQLite's own write lock covers the rest (an
  in-memory or `file:` database, which has no lock file).
"""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x6C6561645F6D6967  # "lead_mig": one key for every leadrouter database


def upgrade_database(engine: Engine, *, attempts: int = 20) -> None:
    """Apply every pending migration under the migration lock (idempotent; safe at every start).

    SQLite: opening a fresh file (switching it to WAL) can meet another process's write lock before
    the writers' file lock is ours and answer "database is locked": wait and try again."""
    for attempt in range(attempts):
        try:
            _upgrade(engine)
            return
        except OperationalError as exc:
            locked = engine.dialect.name == "sqlite" and "database is locked" in str(exc)
            if not locked or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _upgrade(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")  # reads the revision now, inside the lock
