"""OAuth tokens of a Bitrix24 app, kept in our `kv` table and refreshed once for all processes (§4.2).

The access token lives 1 hour; the refresh token lives 180 days and *rotates* on every refresh, so
two processes refreshing with the same one lose the race (bitrix24.md §7.4: concurrent 401s must be
coalesced into one refresh). One process at a time takes a short lease on the row (under `locked()`:
BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), calls the OAuth server *outside* the
transaction, and stores the new pair before anyone uses it; the others wait and re-read.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from adapters.errors import AuthError
from adapters.storage.engine import reading
from adapters.storage.sql import insert_ignore, locked, upsert
from adapters.storage.tables import kv

KEY = "bitrix24:oauth"


@dataclass(frozen=True)
class TokenPair:
    """What the OAuth server answers; both tokens stay out of repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: float = 3600.0


Exchange = Callable[[str], TokenPair]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def install_tokens(engine: Engine, pair: TokenPair, *, now: float | None = None, key: str = KEY) -> None:
    """Store the pair an app receives at install (ONAPPINSTALL, §4.3) as the current one."""
    stamp = time.time() if now is None else now
    state = {
        "access": pair.access_token,
        "refresh": pair.refresh_token,
        "expires_at": stamp + pair.expires_in,
    }
    with engine.begin() as connection:
        connection.execute(upsert(connection, kv, ["key"], key=key, value=state, updated_at=_at(stamp)))


class TokenStore:
    """The app's current tokens, shared through the database; `refresh` is single-flight."""

    def __init__(
        self,
        *,
        engine: Engine,
        exchange: Exchange,
        seed_refresh: str | None = None,
        key: str = KEY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        lease: float = 30.0,
    ) -> None:
        self._engine, self._exchange, self._key = engine, exchange, key
        self._seed = seed_refresh
        self._clock, self._sleep, self._lease = clock, sleep, lease
        self._holder = f"{os.getpid()}:{id(self):x}"
        self._state: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "TokenStore(***)"

    def access(self) -> str:
        """A token believed valid: ours, else the stored one, else a fresh one."""
        with self._lock:
            if not self._fresh(self._state):
                self._state = self._read()
            if not self._fresh(self._state):
                self._refresh_locked(rejected=str(self._state.get("access") or ""))
            return str(self._state["access"])

    def refresh(self, rejected: str) -> None:
        """After Bitrix24 refused `rejected`: adopt a newer stored token, or refresh ourselves."""
        with self._lock:
            self._refresh_locked(rejected)

    def _fresh(self, state: dict[str, Any]) -> bool:
        # Known-expired tokens are refreshed on use; never on a timer (§4.2 warns apps get blocked).
        return bool(state.get("access")) and self._clock() < float(state.get("expires_at", 0))

    def _refresh_locked(self, rejected: str) -> None:
        deadline = self._clock() + 2 * self._lease
        while True:
            state, mine = self._claim(rejected)
            if state is not None and not mine:
                self._state = state  # another process refreshed while we waited
                return
            if state is not None:
                break
            if self._clock() > deadline:
                raise AuthError("Bitrix24 token refresh: another process holds the refresh lease too long")
            self._sleep(0.1)
        used = str(state.get("refresh") or "")
        if not used:
            self._release()
            raise AuthError("Bitrix24 OAuth: no refresh token stored; install the app again")
        try:
            pair = self._exchange(used)
        except Exception:
            latest = self._release()
            if latest.get("refresh") != used and self._fresh(latest):
                self._state = latest  # rotated by someone else meanwhile: theirs is good
                return
            raise
        self._store(pair)

    def _claim(self, rejected: str) -> tuple[dict[str, Any] | None, bool]:
        """(state, True) with our lease; (newer usable state, False); (None, False) to wait."""
        now = self._clock()
        with self._engine.begin() as connection:
            state = self._locked_state(connection, now)
            if self._fresh(state) and state.get("access") != rejected:
                return state, False
            if float(state.get("lease_until", 0)) > now and state.get("holder") != self._holder:
                return None, False
            state |= {"lease_until": now + self._lease, "holder": self._holder}
            self._write(connection, state, now)
        return state, True

    def _locked_state(self, connection: Connection, now: float) -> dict[str, Any]:
        seed = {"refresh": self._seed, "seed": _digest(self._seed)} if self._seed else {}
        connection.execute(
            insert_ignore(connection, kv, ["key"], key=self._key, value=seed, updated_at=_at(now))
        )
        query = locked(connection, select(kv.c.value).where(kv.c.key == self._key))
        state = dict(connection.execute(query).scalar_one() or {})
        stale = not state.get("refresh") or state.get("seed", seed.get("seed")) != seed.get("seed")
        if self._seed and stale:
            # Nothing stored yet, or the operator put a new refresh token in the environment since
            # the stored pair grew from the old one: start from it. A pair stored at install has
            # no seed mark and is kept.
            state = {**seed, "lease_until": state.get("lease_until", 0), "holder": state.get("holder")}
        return state

    def _read(self) -> dict[str, Any]:
        with reading(self._engine) as connection:
            value = connection.execute(select(kv.c.value).where(kv.c.key == self._key)).scalar()
        return dict(value or {})

    def _store(self, pair: TokenPair) -> None:
        now = self._clock()
        state: dict[str, Any] = {
            "access": pair.access_token,
            "refresh": pair.refresh_token,
            "expires_at": now + pair.expires_in,
        }
        if self._seed:
            state["seed"] = _digest(self._seed)
        with self._engine.begin() as connection:
            self._write(connection, state, now)  # persisted before anyone uses it
        self._state = state

    def _release(self) -> dict[str, Any]:
        now = self._clock()
        with self._engine.begin() as connection:
            state = dict(
                connection.execute(
                    locked(connection, select(kv.c.value).where(kv.c.key == self._key))
                ).scalar_one()
            )
            if state.get("holder") == self._holder:
                state.pop("lease_until", None)
                state.pop("holder", None)
                self._write(connection, state, now)
        return state

    def _write(self, connection: Connection, state: dict[str, Any], now: float) -> None:
        connection.execute(kv.update().where(kv.c.key == self._key).values(value=state, updated_at=_at(now)))
