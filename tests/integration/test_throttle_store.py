"""Wrong admin tokens counted in the database: every process's failures count, old ones drop out."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from adapters.storage.throttle import recent_failures, record_failure

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=60)


def test_failures_recorded_at_once_from_many_threads_all_count(engine):
    def fail(n: int) -> None:
        record_failure(engine, "203.0.113.7", f"fp{n}", AT, WINDOW)

    threads = [threading.Thread(target=fail, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = recent_failures(engine, "203.0.113.7", AT - WINDOW)
    assert sorted(f.fingerprint for f in found) == [f"fp{n}" for n in range(8)]


def test_failures_past_the_window_drop_out_and_other_addresses_are_apart(engine):
    record_failure(engine, "203.0.113.7", "old", AT, WINDOW)
    record_failure(engine, "198.51.100.20", "other", AT, WINDOW)
    later = AT + timedelta(seconds=90)
    record_failure(engine, "203.0.113.7", "new", later, WINDOW)
    assert [f.fingerprint for f in recent_failures(engine, "203.0.113.7", later - WINDOW)] == ["new"]
    assert recent_failures(engine, "198.51.100.20", later - WINDOW) == []  # pruned with its row
