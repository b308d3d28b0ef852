"""Processes started together on a fresh database all migrate it: one upgrades, the others wait."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from adapters.storage.engine import make_engine
from adapters.storage.migrate import MIGRATIONS, upgrade_database


@contextmanager
def fresh_schema(pg_url: str) -> Iterator[str]:
    """A new empty schema on the test server, and the URL that works in it."""
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield pg_url.split("?")[0] + "?" + urlencode({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 3
ROUNDS = 3


def _head() -> str:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _upgrade_when_all_are_ready(url: str, ready: object, failures: object) -> None:
    engine = make_engine(url)
    ready.wait()  # type: ignore[attr-defined]
    try:
        upgrade_database(engine)
    except Exception as exc:
        failures.put(f"{type(exc).__name__}: {exc}"[:300])  # type: ignore[attr-defined]
        raise SystemExit(1) from None
    finally:
        engine.dispose()


def _start_together(url: str) -> list[str]:
    """Three processes, released by one barrier, each upgrading the same database; their failures."""
    context = multiprocessing.get_context("fork")
    ready, failures = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(target=_upgrade_when_all_are_ready, args=(url, ready, failures))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    errors = []
    while not failures.empty():
        errors.append(failures.get())
    errors += [f"exit {p.exitcode}" for p in processes if p.exitcode != 0 and not errors]
    return errors


def _version(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_three_processes_started_together_on_fresh_postgresql_all_upgrade_it(pg_url: str) -> None:
    for round_ in range(ROUNDS):  # a fresh schema each round: the race is on the first creation
        with fresh_schema(pg_url) as url:
            assert _start_together(url) == [], f"round {round_}"
            assert _version(url) == _head()


@pytest.mark.slow
def test_three_processes_started_together_on_a_fresh_sqlite_file_all_upgrade_it(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'fresh{round_}.db'}"
        assert _start_together(url) == [], f"round {round_}"
        assert _version(url) == _head()


@pytest.mark.slow
def test_three_commands_started_together_on_fresh_postgresql_all_succeed(pg_url: str, tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "LEADROUTER_DATABASE_URL": pg_url, "PATH": "/usr/bin:/bin"}
    commands = [
        subprocess.Popen(
            [sys.executable, "-m", "webhook_app.cli.main", "deadletters", "list"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for command in commands:
        _, err = command.communicate(timeout=120)
        assert command.returncode == 0, err[-2000:]
    assert _version(pg_url) == _head()
