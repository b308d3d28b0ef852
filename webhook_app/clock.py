"""The one real clock; everything else receives a `Clock` so tests can hold time still.

Beside the wall clock, an `Elapsed` reading: seconds on a clock nobody sets (CLOCK_BOOTTIME on
Linux, which also counts a suspended machine's sleep; the monotonic clock elsewhere). The worker
compares the two to tell a wall clock set forward from time that really passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
Elapsed = Callable[[], float]


def utc_now() -> datetime:
    """The real clock: now, in UTC."""
    return datetime.now(UTC)


def elapsed() -> float:
    """Seconds since an arbitrary start, on a clock that setting the date does not move."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


def elapsed_of(clock: Clock) -> Elapsed | None:
    """The elapsed-time reading that goes with `clock`: its own `elapsed` if it has one (a test's
    clock), the machine's for the real clock; None for any other clock (no step can be told)."""
    own = getattr(clock, "elapsed", None)
    if callable(own):
        return own  # type: ignore[no-any-return]
    return elapsed if clock is utc_now else None
