"""A rate limiter shared by every process that talks to one CRM, kept in our own database.

GCRA (the generic cell rate algorithm, i.e. a leaky bucket kept as one timestamp): each call
reserves the next slot under a row lock and sleeps until it, outside any transaction. A burst of
`burst` calls may go at once; after that calls are spaced 1/rate apart. amoCRM counts requests per
second, so it uses burst 1 (never more than `rate` in any one-second window); Bitrix24 documents a
leaky bucket of 2/s with 50 in reserve, which is exactly burst 50.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from adapters.storage.kv import lock_value, seed_value, write_value


@dataclass
class SharedRateLimiter:
    """At most `rate` calls per second on average, at most `burst` at once, across processes."""

    engine: Engine
    name: str
    rate: float
    burst: int = 1
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    max_ahead: float = 60.0  # a slot further ahead than this means the clock stepped back
    waited: float = field(default=0.0, init=False)

    def acquire(self) -> float:
        """Block until this call may go; returns the seconds waited."""
        # Sleep until the reserved moment itself, measured after the commit: a wait for the row
        # lock or a slow commit must not push this call into the next caller's slot.
        delay = max(0.0, self._reserve() - self.clock())
        if delay > 0:
            self.sleep(delay)
            self.waited += delay
        return delay

    def _reserve(self) -> float:
        """Reserve the next slot; returns the moment (clock time) this call may go."""
        key = f"ratelimit:{self.name}"
        interval = 1.0 / self.rate
        tolerance = (self.burst - 1) * interval
        with self.engine.begin() as connection:
            stamp = datetime.fromtimestamp(self.clock(), UTC)
            seed_value(connection, key, {"tat": 0.0}, stamp)
            value = lock_value(connection, key, must_exist=True)
            now = self.clock()  # read under the row lock: a stale `now` would hand out a past slot
            tat = max(float(value["tat"]), now)
            if tat - now > self.max_ahead:
                # No queue of callers is a minute long at the CRM's rate: the stored moment is from
                # before the clock stepped back. Waiting for it would stop every call for the step.
                tat = now
            write_value(connection, key, {"tat": tat + interval}, stamp)
        return tat - tolerance
