"""OAuth tokens of a Bitrix24 app, kept in our `kv` table and refreshed once for all processes (§4.2).

The access token lives 1 hour; the refresh token lives 180 days and *rotates* on every refresh, so
two processes refreshing with the same one lose the race (bitrix24.md §7.4: concurrent 401s must be
coalesced into one refresh). One process at a time takes a short lease on the row (under `locked()`:
BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), calls the OAuth server *outside* the
transaction, and stores the new pair before anyone uses it; the others wait and re-read. The lease
and the row are adapters.storage.tokens', shared with amoCRM; what is usable is decided here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from adapters.storage.tokens import SharedTokens, State, digest, pair_state, save_tokens

KEY = "bitrix24:oauth"


@dataclass(frozen=True)
class TokenPair:
    """What the OAuth server answers; both tokens stay out of repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: float = 3600.0


Exchange = Callable[[str], TokenPair]


def install_tokens(engine: Engine, pair: TokenPair, *, now: float | None = None, key: str = KEY) -> None:
    """Store the pair an app receives at install (ONAPPINSTALL, §4.3) as the current one."""
    stamp = time.time() if now is None else now
    save_tokens(engine, key, pair_state(pair, stamp), now=stamp)


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
        self._exchange = exchange
        self._seed = seed_refresh
        self._clock = clock
        self._shared = SharedTokens(
            engine=engine,
            key=key,
            holder=f"{os.getpid()}:{id(self):x}",
            crm="Bitrix24",
            lease=lease,
            clock=clock,
            sleep=sleep,
        )
        self._state: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "TokenStore(***)"

    def access(self) -> str:
        """A token believed valid: ours, else the stored one, else a fresh one."""
        with self._lock:
            if not self._fresh(self._state):
                self._state = self._shared.load()
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
        self._state = self._shared.refresh(
            seed=self._seed_state(),
            review=lambda stored: self._review(stored, rejected),
            exchange=self._exchange,
            marks=lambda _now: self._marks(),
            adopt=self._fresh,
            missing="Bitrix24 OAuth: no refresh token stored; install the app again",
        )

    def _seed_state(self) -> State:
        return {"refresh": self._seed, "seed": digest(self._seed)} if self._seed else {}

    def _review(self, stored: State, rejected: str) -> tuple[State, bool]:
        """The state to go on from, and whether it is usable as is."""
        seed = self._seed_state()
        stale = not stored.get("refresh") or stored.get("seed", seed.get("seed")) != seed.get("seed")
        state = stored
        if self._seed and stale:
            # Nothing stored yet, or the operator put a new refresh token in the environment since
            # the stored pair grew from the old one: start from it. A pair stored at install has
            # no seed mark and is kept.
            state = {**seed, "lease_until": stored.get("lease_until", 0), "holder": stored.get("holder")}
        return state, self._fresh(state) and state.get("access") != rejected

    def _marks(self) -> State:
        return {"seed": digest(self._seed)} if self._seed else {}
