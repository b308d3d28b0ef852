"""Opt-in: run the whole session with the wall clock moved, to find tests and code that depend on today.

`LEADROUTER_TEST_SHIFT_DAYS=365 pytest` (or -365) moves this process's wall clock (`time.time`,
`datetime.now`, `date.today`; not `time.monotonic`) that many days from the real now with
time-machine, and lets it tick. Clocks that tests inject are not moved, so a test that passes
unshifted and fails shifted reads the wall clock where it should read its injected clock (or hard-codes
a date that must lie ahead of or behind today). Other processes — the e2e `leadrouter` processes, worker
and refresh subprocesses, Chromium — keep the real time: tests marked `wall_clock_across_processes`
compare this process's wall clock with theirs, and are skipped while shifted.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

SHIFT_DAYS = "LEADROUTER_TEST_SHIFT_DAYS"
_travellers: list[Any] = []


def _shift_days() -> int | None:
    value = os.environ.get(SHIFT_DAYS, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise pytest.UsageError(f"{SHIFT_DAYS} must be a whole number of days, not {value!r}") from None


def pytest_configure(config: pytest.Config) -> None:
    days = _shift_days()
    if not days:
        return
    try:
        import time_machine
    except ImportError:
        raise pytest.UsageError(f"{SHIFT_DAYS} needs time-machine (pip install time-machine)") from None
    traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
    traveller.start()
    _travellers.append(traveller)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _travellers:
        _travellers.pop().stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _travellers:
        return None
    now = datetime.now(UTC)
    return f"{SHIFT_DAYS}={_shift_days()}: this process's wall clock reads {now:%Y-%m-%d %H:%M} UTC"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _travellers:
        return
    skip = pytest.mark.skip(
        reason=f"{SHIFT_DAYS}: shares the wall clock with processes it starts, which are not shifted"
    )
    for item in items:
        if item.get_closest_marker("wall_clock_across_processes"):
            item.add_marker(skip)
