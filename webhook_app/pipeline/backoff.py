"""Capped exponential backoff with jitter for work retried across runs (jobs, outbox writes)."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff_delay(
    attempt: int,
    rng: random.Random,
    *,
    base: float = 5.0,
    cap: float = 900.0,
    retry_after: float | None = None,
) -> timedelta:
    """Delay before attempt `attempt + 1`: base·2^(attempt−1) capped, jittered to 50–100 %.

    Jitter spreads retries of a burst so they do not hit the CRM together; a server's own
    Retry-After is a floor we never go under.
    """
    raw = min(cap, base * 2 ** max(0, attempt - 1))
    seconds = raw * (0.5 + rng.random() / 2)
    if retry_after is not None:
        seconds = max(seconds, retry_after)
    return timedelta(seconds=seconds)
