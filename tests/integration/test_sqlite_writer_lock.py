"""SQLite writers of all processes queue on one file lock, held from BEGIN IMMEDIATE to the end."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.storage.engine import make_engine


def _can_lock(path: Path) -> bool:
    """True when another open file description could take the writers' lock right now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock if we got it
    return True


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "w.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (who TEXT, n INTEGER)"))
    engine.dispose()
    return path


def test_a_write_transaction_holds_the_lock_until_commit(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    lock_file = Path(f"{db}-writers")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES ('a', 1)"))
        assert not _can_lock(lock_file)
    assert _can_lock(lock_file)


def test_rollback_and_reads_leave_the_lock_free(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    lock_file = Path(f"{db}-writers")
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES ('a', 1)"))
        raise RuntimeError("boom")
    assert _can_lock(lock_file)
    with engine.connect().execution_options(read_only=True) as connection, connection.begin():
        connection.execute(text("SELECT count(*) FROM t"))
        assert _can_lock(lock_file)  # a reader never queues the writers
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_threads_of_one_process_take_turns(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES ('first', 1)"))
            inside.set()
            release.wait(5)
            order.append("first commits")

    def second() -> None:
        inside.wait(5)
        with engine.begin() as connection:
            order.append("second begins")
            connection.execute(text("INSERT INTO t VALUES ('second', 1)"))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(5)
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first commits", "second begins"]


def _writer(path: str, who: str, count: int) -> None:
    engine = make_engine(f"sqlite:///{path}")
    for _ in range(count):
        with engine.begin() as connection:
            current = connection.execute(text("SELECT count(*) FROM t WHERE who = :w"), {"w": who}).scalar()
            connection.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": who, "n": current})


def test_processes_write_side_by_side_without_busy_errors(db: Path) -> None:
    context = multiprocessing.get_context("fork")
    # The parent opens the lock first: a forked child must open its own, not share the parent's.
    make_engine(f"sqlite:///{db}").connect().close()
    with make_engine(f"sqlite:///{db}").begin() as connection:
        connection.execute(text("SELECT 1"))
    children = [context.Process(target=_writer, args=(str(db), f"p{i}", 300)) for i in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT who, count(*), max(n) FROM t GROUP BY who ORDER BY who")).all()
    # Read-modify-write per process: each saw its own count exactly (n = 0..299, no gaps, no repeats).
    assert [tuple(row) for row in rows] == [("p0", 300, 299), ("p1", 300, 299), ("p2", 300, 299)]


def _try_lock_in_child(path: str) -> None:
    from adapters.storage.engine import _writer_lock

    try:
        fcntl.flock(_writer_lock(path).fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os._exit(0)  # waits for the parent, as it should
    os._exit(3)  # got the parent's lock through an inherited file: two writers at once


def test_a_forked_child_does_not_inherit_the_parents_hold(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    context = multiprocessing.get_context("fork")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES ('parent', 1)"))
        child = context.Process(target=_try_lock_in_child, args=(str(db),))
        child.start()
        child.join(30)
    assert child.exitcode == 0
