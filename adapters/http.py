"""Shared HTTP plumbing for the CRM clients: transport errors translated, retries with tenacity.

Retry rules, and why:
- RateLimited (429, Bitrix24's QUERY_LIMIT_EXCEEDED): always retried, never sooner than the CRM's
  own Retry-After — hammering a limiter only extends the block.
- TransientCrmError (5xx, timeouts, dropped connections): retried with capped exponential
  backoff and full jitter, so a burst of failures does not come back as a synchronized burst.
- PermanentCrmError (400/422, validation) and AuthError: never retried; a second identical
  request gets the same answer. They go to dead letters (or, for auth, stop the worker loudly).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from adapters.errors import RateLimited, TransientCrmError

T = TypeVar("T")


def translate_transport_errors(call: Callable[[], T]) -> T:
    """Run an httpx call, turning network-level failures into TransientCrmError."""
    try:
        return call()
    except httpx.TimeoutException as exc:
        raise TransientCrmError(f"timeout: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise TransientCrmError(f"connection failed: {type(exc).__name__}") from exc


class wait_retry_after:  # lower-case like tenacity's own wait strategies
    """Exponential jitter, but never shorter than a RateLimited's `retry_after`."""

    def __init__(self, *, base: float = 0.5, cap: float = 30.0) -> None:
        self.fallback = wait_random_exponential(multiplier=base, max=cap)

    def __call__(self, state: RetryCallState) -> float:
        delay = float(self.fallback(state))
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay


def retrying(*, attempts: int = 5, sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """The retry policy for one CRM call: transient errors only, `attempts` tries in all."""
    return Retrying(
        retry=retry_if_exception_type(TransientCrmError),
        wait=wait_retry_after(),
        stop=stop_after_attempt(attempts),
        sleep=sleep,
        reraise=True,
    )
