"""The door every amoCRM request passes: the shared rate limit, and pauses and bans all processes see.

amoCRM allows about 7 requests a second per account/IP (§4), counted as they arrive, and blocks an
integration that keeps hitting 429 (403 on everything, lifted only through support). So: a sliding
window in our database paces every process, keeping any eight calls at least 1 s + `margin` apart
so that network jitter cannot land eight inside one of amoCRM's seconds; a 429 that still comes
pauses *every* process until its `retry_after` and widens the margin for all of them; a ban stops
every process for `ban_pause` before one probe is allowed again. Long pauses are not slept inside a call
(the outbox lease would expire and another worker would resend): they surface as RateLimited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from adapters.errors import Blocked, RateLimited
from adapters.ratelimit import SlidingWindowLimiter
from adapters.storage.engine import reading
from adapters.storage.kv import lock_value, put_value, read_value


class Deferred(Exception):
    """A RateLimited whose wait is too long to sleep inside a call: leaves the retry loop as is."""

    def __init__(self, error: RateLimited) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Gate:
    """Pace, pause and stop the calls to one amoCRM account, across processes."""

    engine: Engine
    name: str = "amocrm"
    rate: float = 7.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    max_inline_wait: float = 10.0
    default_pause: float = 1.0
    ban_window: float = 600.0  # a 403 this soon after a 429 is the abuse ban
    ban_pause: float = 900.0
    # 0.15 s for 13 % of the throughput: a call that starts up to 25 ms late goes (a later one
    # takes a new moment), which leaves about 125 ms for the network to delay one call more than
    # the one seven places after it (bench/burst_amocrm.py --pacing, docs/benchmarks.md).
    margin: float = 0.15

    def __post_init__(self) -> None:
        self.limiter = SlidingWindowLimiter.per_second(
            self.engine, self.name, self.rate, margin=self.margin, clock=self.clock, sleep=self.sleep
        )

    @property
    def key(self) -> str:
        """The kv row holding the pause, the ban and the last 429."""
        return f"gate:{self.name}"

    def wait(self) -> None:
        """Block until a request may go; Blocked while banned, Deferred for a pause too long to sleep."""
        state = self._read()
        now = self.clock()
        if state.get("blocked_until", 0.0) > now:
            left = state["blocked_until"] - now
            raise Blocked("amoCRM blocked this integration; calls stopped for now", retry_after=left)
        paused = state.get("paused_until", 0.0) - now
        if paused > self.max_inline_wait:
            raise Deferred(RateLimited("amoCRM asked every process to pause", retry_after=paused))
        if paused > 0:
            self.sleep(paused)
        self.limiter.acquire()

    def limited(self, retry_after: float | None) -> None:
        """A 429 arrived: pause every process for amoCRM's hint (or a default), remember when, and
        keep every process's calls further apart from now on (the margin relaxes by itself)."""
        self.limiter.slow_down()
        now = self.clock()
        until = now + (retry_after if retry_after is not None else self.default_pause)
        self._update(lambda s: {**s, "paused_until": max(s.get("paused_until", 0.0), until), "last_429": now})

    def recently_limited(self) -> bool:
        """Whether a process was answered 429 within `ban_window`, or banned within a day (a probe
        after the pause that meets a 403 is the same ban, whatever its body says)."""
        state, now = self._read(), self.clock()
        banned_lately = state.get("blocked_until", float("-inf")) > now - 86400
        return banned_lately or now - state.get("last_429", float("-inf")) < self.ban_window

    def banned(self) -> float:
        """A ban was detected: stop every process for `ban_pause` seconds; returns the pause."""
        until = self.clock() + self.ban_pause
        self._update(lambda s: {**s, "blocked_until": until})
        return self.ban_pause

    def _read(self) -> dict[str, float]:
        with reading(self.engine) as connection:
            value = read_value(connection, self.key)
        return dict(value or {})

    def _update(self, change: Callable[[dict[str, float]], dict[str, float]]) -> None:
        stamp = datetime.fromtimestamp(self.clock(), UTC)
        with self.engine.begin() as connection:
            current = dict(lock_value(connection, self.key) or {})
            put_value(connection, self.key, change(current), stamp)
