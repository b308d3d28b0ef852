"""The OAuth token store of both CRMs: one `kv` row per CRM, refreshed once for all processes.

A refresh token is single-use and rotates, so two processes refreshing with the same one lose the
race (amoCRM answers 401 "Token has been revoked"; Bitrix24 §7.4 wants concurrent 401s coalesced).
So one process at a time takes a short lease on the row, under `locked()` (BEGIN IMMEDIATE on
SQLite, FOR UPDATE on PostgreSQL), and re-reads the row while holding the lock: a process that
waited for the lease sees the pair the first one stored and uses it instead of refreshing. The
exchange with the OAuth server runs *outside* any transaction (the webhook intake shares SQLite's
write lock); the new pair is stored before anyone uses it; after a failed exchange the lease is
released and the row re-read, since another process may have rotated the pair meanwhile.

What counts as usable, and what the environment's seed refresh token means, each CRM decides
(`review`, `adopt`). The state is a JSON object; `access`, `refresh` and `expires_at` are common,
`lease_until` and `holder` mark the lease. Secrets stay in the row: never in a repr or an error.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from adapters.errors import AuthError
from adapters.storage.engine import reading
from adapters.storage.kv import lock_value, put_value, read_value, seed_value, write_value

State = dict[str, Any]
Review = Callable[[State], tuple[State, bool]]
"""Given the stored state (read under the lock): the state to go on from, and whether it is usable
as it is (then it is adopted and no lease is taken)."""


class Pair(Protocol):
    """What an OAuth server answers: both CRMs' `TokenPair`."""

    @property
    def access_token(self) -> str:
        """The bearer token."""
        ...

    @property
    def refresh_token(self) -> str:
        """The next (single-use) refresh token."""
        ...

    @property
    def expires_in(self) -> float:
        """Seconds the access token lives."""
        ...


def digest(secret: str) -> str:
    """A short one-way mark of a secret, stored to tell whether the environment's seed changed."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def pair_state(pair: Pair, now: float, **marks: Any) -> State:
    """The stored state for a pair received at `now`, with the CRM's own `marks` after it."""
    return {
        "access": pair.access_token,
        "refresh": pair.refresh_token,
        "expires_at": now + pair.expires_in,
        **marks,
    }


def load_tokens(engine: Engine, key: str) -> State:
    """The stored state under `key` ({} when none), read without taking SQLite's write lock."""
    with reading(engine) as connection:
        value = read_value(connection, key)
    return dict(value or {})


def save_tokens(engine: Engine, key: str, state: Mapping[str, Any], *, now: float) -> None:
    """Store `state` under `key` as the current pair (an install), replacing whatever was there."""
    with engine.begin() as connection:
        put_value(connection, key, state, _at(now))


class SharedTokens:
    """One CRM's token state under `key`; `refresh` makes one exchange for every process."""

    def __init__(
        self,
        *,
        engine: Engine,
        key: str,
        holder: str,
        crm: str,
        lease: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key, self._engine, self._holder, self._crm = key, engine, holder, crm
        self._lease, self._clock, self._sleep = lease, clock, sleep

    def __repr__(self) -> str:
        return f"SharedTokens({self.key!r}, ***)"

    def load(self) -> State:
        """The stored state ({} when none), read without the write lock."""
        return load_tokens(self._engine, self.key)

    def refresh(
        self,
        *,
        seed: State,
        review: Review,
        exchange: Callable[[str], Pair],
        marks: Callable[[float], State],
        adopt: Callable[[State], bool],
        missing: str,
    ) -> State:
        """A usable state someone else stored, or the stored refresh token traded by `exchange` under
        our lease and stored (with `marks(now)`) before it is returned. `seed` is the row a first
        claim inserts; AuthError(`missing`) when there is no refresh token to trade. If `exchange`
        fails, a pair another process rotated meanwhile is returned when `adopt` accepts it."""
        state, mine = self.take_lease(seed, review)
        if not mine:
            return state  # someone else refreshed while we waited
        used = str(state.get("refresh") or "")
        if not used:
            self.release()
            raise AuthError(missing)
        try:
            pair = exchange(used)
        except Exception:
            latest = self.release()
            if latest.get("refresh") != used and adopt(latest):
                return latest  # another process rotated it meanwhile: theirs is good
            raise
        return self.store(pair, marks)

    def take_lease(self, seed: State, review: Review) -> tuple[State, bool]:
        """(state, True) with our lease on it, or (a usable state someone else stored, False); waits
        while another process holds the lease, AuthError after two lease lengths."""
        deadline = self._clock() + 2 * self._lease
        while True:
            state, mine = self._claim(seed, review)
            if state is not None:
                return state, mine
            if self._clock() > deadline:
                raise AuthError(
                    f"{self._crm} token refresh: another process holds the refresh lease too long"
                )
            self._sleep(0.1)

    def _claim(self, seed: State, review: Review) -> tuple[State | None, bool]:
        """(state, True) with our lease taken; (usable state, False); (None, False) to wait."""
        now = self._clock()
        with self._engine.begin() as connection:
            seed_value(connection, self.key, seed, _at(now))
            state, usable = review(dict(lock_value(connection, self.key, must_exist=True) or {}))
            if usable:
                return state, False
            if float(state.get("lease_until", 0)) > now and state.get("holder") != self._holder:
                return None, False
            state |= {"lease_until": now + self._lease, "holder": self._holder}
            write_value(connection, self.key, state, _at(now))
        return state, True

    def store(self, pair: Pair, marks: Callable[[float], State]) -> State:
        """Store a new pair (our lease ends with it) before anyone uses it; returns the stored state."""
        now = self._clock()
        state = pair_state(pair, now, **marks(now))
        with self._engine.begin() as connection:
            write_value(connection, self.key, state, _at(now))
        return state

    def release(self) -> State:
        """Give up our lease (if it is still ours); returns the state as stored now."""
        now = self._clock()
        with self._engine.begin() as connection:
            state = dict(lock_value(connection, self.key, must_exist=True))
            if state.get("holder") == self._holder:
                state.pop("lease_until", None)
                state.pop("holder", None)
                write_value(connection, self.key, state, _at(now))
        return state


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)
