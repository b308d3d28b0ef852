"""Rate limiters shared by every process that talks to one CRM, kept in our own database.

Each call reserves its moment under a row lock and sleeps until it, outside any transaction.

- `SharedRateLimiter`, for Bitrix24: GCRA (the generic cell rate algorithm, i.e. a leaky bucket
  kept as one timestamp). A burst of `burst` calls may go at once; after that calls are spaced
  1/rate apart. Bitrix24 documents a leaky bucket of 2/s with 50 in reserve, which is exactly
  burst 50 (its factory keeps a tenth of the reserve back for requests that arrive bunched).
- `SlidingWindowLimiter`, for amoCRM: at most `limit` calls in any `window` seconds, where the
  window we keep is the server's plus a `margin`. amoCRM counts requests in a second as they
  *arrive*; calls sent exactly 1/7 s apart put eight inside one second as soon as the network
  delays one call a little more than the one seven places later. Keeping eight sends at least
  `window + margin` apart absorbs such jitter (network, and a thread that wakes late: a call
  later than a sixth of the margin takes a new moment) at the cost of `margin` / `window` of the
  throughput. A 429 that still comes widens
  the margin for every process (`slow_down`); it relaxes again by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from adapters.storage.kv import lock_value, seed_value, write_value

SLOWED_FOR = 600.0  # a margin widened by 429s relaxes back over ten minutes


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


@dataclass
class SlidingWindowLimiter:
    """At most `limit` calls in any `window` + `margin` seconds of send time, across processes."""

    engine: Engine
    name: str
    limit: int
    window: float = 1.0
    margin: float = 0.1
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    max_ahead: float = 60.0  # a slot further ahead than this means the clock stepped back
    max_extra: float = 0.5  # how far 429s may widen the margin
    waited: float = field(default=0.0, init=False)

    @classmethod
    def per_second(cls, engine: Engine, name: str, rate: float, **options: Any) -> SlidingWindowLimiter:
        """`rate` calls a second as whole calls per window: 7 → 7 in 1 s, 0.5 → 1 in 2 s."""
        limit = max(1, int(rate))
        return cls(engine, name, limit, window=limit / rate, **options)

    @property
    def key(self) -> str:
        """The kv row: the last `limit` reserved moments, and the margin 429s added."""
        return f"ratelimit:{self.name}"

    def acquire(self) -> float:
        """Block until this call may go; returns the seconds waited."""
        # As in SharedRateLimiter: sleep until the reserved moment itself, measured after the commit.
        # A call that wakes (or commits) more than `late` after its moment takes a new one: on a
        # busy machine a thread can wake 100 ms late, and a late call next to an on-time one seven
        # places after it is just what the margin has to absorb. Its first moment stays booked.
        waited, late = 0.0, self.margin / 6
        for _ in range(5):  # after a few tries on a machine this busy it goes; a 429 slows us then
            slot = self._reserve()
            delay = max(0.0, slot - self.clock())
            if delay > 0:
                self.sleep(delay)
                waited += delay
            if self.clock() - slot <= late:
                break
        self.waited += waited
        return waited

    def slow_down(self, step: float = 0.1) -> float:
        """The server refused a call for its rate: widen every process's margin by `step` (capped);
        returns the extra margin now in force."""
        with self.engine.begin() as connection:
            now = self.clock()
            seed_value(connection, self.key, {"slots": []}, _stamp(now))
            value = dict(lock_value(connection, self.key, must_exist=True))
            extra = min(self.max_extra, self._extra(value, now) + step)
            write_value(connection, self.key, value | {"extra": extra, "extra_at": now}, _stamp(now))
        return extra

    def _reserve(self) -> float:
        """Reserve the first moment at which no window would see more than `limit`; returns it."""
        with self.engine.begin() as connection:
            seed_value(connection, self.key, {"slots": []}, _stamp(self.clock()))
            value = dict(lock_value(connection, self.key, must_exist=True))
            now = self.clock()  # read under the row lock: a stale `now` would hand out a past slot
            slots = [float(s) for s in value.get("slots", [])][-self.limit :]
            if slots and slots[-1] - now > self.max_ahead:
                # No queue of callers is a minute long at the CRM's rate: the stored moments are
                # from before the clock stepped back. Waiting for them would stop every call.
                slots = []
            span = self.window + self.margin + self._extra(value, now)
            slot = max(now, slots[-self.limit] + span) if len(slots) >= self.limit else now
            slots = [*slots, slot][-self.limit :]
            # `tat`: the latest moment handed out (the admin page shows how far ahead it is).
            write_value(connection, self.key, value | {"slots": slots, "tat": slot}, _stamp(now))
        return slot

    def _extra(self, value: dict[str, Any], now: float) -> float:
        """The margin 429s added, relaxing linearly to nothing over SLOWED_FOR seconds."""
        extra, since = float(value.get("extra", 0.0)), float(value.get("extra_at", now))
        elapsed = min(max(0.0, now - since), SLOWED_FOR)  # a clock stepped back relaxes nothing
        return max(0.0, extra - self.max_extra * elapsed / SLOWED_FOR)


def _stamp(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)
