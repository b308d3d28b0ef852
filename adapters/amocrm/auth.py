"""amoCRM credentials: a long-lived token, or OAuth tokens refreshed once for all processes (§3).

The refresh token is single-use and rotates: two processes refreshing with the same one means the
loser gets 401 "Token has been revoked" and, if it overwrote storage, locks the integration out
(§6). So the pair lives in our `kv` table; one process at a time takes a short lease on it (taken
under `locked()`, i.e. BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), refreshes *outside*
the transaction (the webhook intake shares SQLite's write lock and amoCRM waits only 2 s, §1.5),
stores the new pair before using it, and the others wait for the lease and re-read. After a
failed refresh we re-read too: another process may have rotated the token meanwhile. Threads of
one process (the worker reads in one, writes in another) share the lease's holder name, so they
refresh one at a time behind a lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, select

from adapters.amocrm.oauth import TokenPair
from adapters.errors import AuthError
from adapters.storage.sql import insert_ignore, locked
from adapters.storage.tables import kv

Exchange = Callable[[str], TokenPair]
NOT_AUTHORIZED = (
    "amoCRM OAuth: no tokens stored yet; run `leadrouter auth --code CODE` with a fresh authorization "
    "code from the integration's settings (or set LEADROUTER_AMOCRM_REFRESH_TOKEN)"
)


class TokenSource(Protocol):
    """Where the transport gets the bearer token from."""

    can_refresh: bool

    def token(self) -> str:
        """A token believed valid now."""
        ...

    def refreshed(self, rejected: str) -> str:
        """A newer token after amoCRM answered 401 to `rejected`, or AuthError."""
        ...


class LongLivedToken:
    """A long-lived token (§3): used as is, never refreshed; a 401 is final."""

    can_refresh = False

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "LongLivedToken(***)"

    def token(self) -> str:
        """The token."""
        return self._value

    def refreshed(self, rejected: str) -> str:
        """Nothing to refresh with."""
        raise AuthError("amoCRM refused the long-lived token (expired or revoked): issue a new one")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class OAuthTokens:
    """OAuth access + refresh tokens kept in `kv`, refreshed single-flight across processes."""

    can_refresh = True

    def __init__(
        self,
        *,
        engine: Engine,
        refresh_token: str | None,
        exchange: Exchange,
        key: str = "amocrm:oauth",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 600.0,
        max_age: float = 30 * 86400.0,
        lease: float = 30.0,
        holder: str = "",
    ) -> None:
        self._engine, self._exchange, self._key = engine, exchange, key
        # The environment's refresh token (if any) seeds the store; a different one later replaces it.
        self._seed = refresh_token or None
        self._seed_digest = _digest(refresh_token) if refresh_token else None
        self._clock, self._sleep = clock, sleep
        # Refresh ahead of expiry, and at least monthly: an unused refresh token dies in 3 months (§3).
        self._margin, self._max_age, self._lease = margin, max_age, lease
        self._holder = holder or f"{id(self):x}:{time.monotonic_ns()}"
        self._state: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "OAuthTokens(***)"

    def token(self) -> str:
        """The stored access token, refreshed first when it is due."""
        state = self._state
        if state is None or self._due(state):
            state = self._refresh(rejected=None)
        return str(state["access"])

    def refreshed(self, rejected: str) -> str:
        """After a 401: someone else's newer token, or a refresh of our own."""
        return str(self._refresh(rejected=rejected)["access"])

    def _due(self, state: dict[str, Any]) -> bool:
        now = self._clock()
        return (
            not state.get("access")
            or now >= float(state.get("expires_at", 0)) - self._margin
            or now - float(state.get("refreshed_at", 0)) >= self._max_age
        )

    def _usable(self, state: dict[str, Any], rejected: str | None) -> bool:
        return not self._due(state) and state.get("access") != rejected

    def _refresh(self, rejected: str | None) -> dict[str, Any]:
        with self._lock:
            state = self._state
            if state is not None and self._usable(state, rejected):
                return state  # another thread of ours refreshed while we waited
            return self._refresh_locked(rejected)

    def _refresh_locked(self, rejected: str | None) -> dict[str, Any]:
        state, mine = self._take_lease(rejected)
        if not mine:
            self._state = state  # someone else refreshed while we waited
            return state
        if not state.get("refresh"):
            self._release()
            raise AuthError(NOT_AUTHORIZED)
        used = str(state["refresh"])
        try:
            pair = self._exchange(used)
        except Exception:
            latest = self._release()
            if latest.get("refresh") != used and self._usable(latest, rejected):
                self._state = latest  # another process rotated it meanwhile: theirs is good
                return latest
            raise
        return self._store(pair)

    def authorize(self, exchange: Callable[[], TokenPair]) -> None:
        """Store the first pair, traded for an authorization code: under the refresh lease (a running
        service does not refresh meanwhile), replacing whatever was stored."""
        with self._lock:
            self._take_lease(None, force=True)
            try:
                pair = exchange()
            except Exception:
                self._release()
                raise
            self._store(pair)

    def _take_lease(self, rejected: str | None, *, force: bool = False) -> tuple[dict[str, Any], bool]:
        """(state, True) with our lease on it, or (a usable state someone else stored, False)."""
        deadline = self._clock() + 2 * self._lease
        while True:
            state, mine = self._claim(rejected, force=force)
            if state is not None:
                return state, mine
            if self._clock() > deadline:
                raise AuthError("amoCRM token refresh: another process holds the refresh lease too long")
            self._sleep(0.1)

    def _claim(self, rejected: str | None, *, force: bool = False) -> tuple[dict[str, Any] | None, bool]:
        """(state, True) with our lease taken; (usable state, False); (None, False) to wait.
        `force`: the lease even when the stored token is usable (an authorization code replaces it)."""
        now = self._clock()
        with self._engine.begin() as connection:
            seed = {"refresh": self._seed, "seed": self._seed_digest, "access": None}
            connection.execute(
                insert_ignore(connection, kv, ["key"], key=self._key, value=seed, updated_at=_at(now))
            )
            query = locked(connection, select(kv.c.value).where(kv.c.key == self._key))
            state = dict(connection.execute(query).scalar_one())
            if self._seed is not None and state.get("seed") != self._seed_digest:
                state = seed  # the operator put a new refresh token in the environment: start from it
            elif self._usable(state, rejected) and not force:
                return state, False
            if float(state.get("lease_until", 0)) > now and state.get("holder") != self._holder:
                return None, False
            state |= {"lease_until": now + self._lease, "holder": self._holder}
            self._write(connection, state, now)
        return state, True

    def _store(self, pair: TokenPair) -> dict[str, Any]:
        now = self._clock()
        state = {
            "access": pair.access_token,
            "refresh": pair.refresh_token,
            "expires_at": now + pair.expires_in,
            "refreshed_at": now,
            "seed": self._seed_digest,
        }
        with self._engine.begin() as connection:
            self._write(connection, state, now)  # persisted before anyone uses it
        self._state = state
        return state

    def _release(self) -> dict[str, Any]:
        now = self._clock()
        with self._engine.begin() as connection:
            query = locked(connection, select(kv.c.value).where(kv.c.key == self._key))
            state = dict(connection.execute(query).scalar_one())
            if state.get("holder") == self._holder:
                state.pop("lease_until", None)
                state.pop("holder", None)
                self._write(connection, state, now)
        return state

    def _write(self, connection: Any, state: dict[str, Any], now: float) -> None:
        connection.execute(kv.update().where(kv.c.key == self._key).values(value=state, updated_at=_at(now)))


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)
