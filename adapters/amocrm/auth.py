"""amoCRM credentials: a long-lived token, or OAuth tokens refreshed once for all processes (§3).

The refresh token is single-use and rotates: two processes refreshing with the same one means the
loser gets 401 "Token has been revoked" and, if it overwrote storage, locks the integration out
(§6). So the pair lives in our `kv` table; one process at a time takes a short lease on it (taken
under `locked()`, i.e. BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), refreshes *outside*
the transaction (the webhook intake shares SQLite's write lock and amoCRM waits only 2 s, §1.5),
stores the new pair before using it, and the others wait for the lease and re-read. After a
failed refresh we re-read too: another process may have rotated the token meanwhile. Threads of
one process (the worker reads in one, writes in another) share the lease's holder name, so they
refresh one at a time behind a lock. The lease and the row are adapters.storage.tokens', shared
with Bitrix24; what is usable, and what a new seed in the environment means, is decided here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Engine

from adapters.amocrm.oauth import TokenPair
from adapters.errors import AuthError
from adapters.storage.tokens import SharedTokens, State, digest

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


class OAuthTokens:
    """OAuth access + refresh tokens kept in `kv` (adapters.storage.tokens), refreshed single-flight
    across processes."""

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
        self._exchange = exchange
        # The environment's refresh token (if any) seeds the store; a different one later replaces it.
        self._seed = refresh_token or None
        self._seed_digest = digest(refresh_token) if refresh_token else None
        self._clock = clock
        # Refresh ahead of expiry, and at least monthly: an unused refresh token dies in 3 months (§3).
        self._margin, self._max_age = margin, max_age
        self._shared = SharedTokens(
            engine=engine,
            key=key,
            holder=holder or f"{id(self):x}:{time.monotonic_ns()}",
            crm="amoCRM",
            lease=lease,
            clock=clock,
            sleep=sleep,
        )
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
            self._state = self._shared.refresh(
                seed=self._seed_state(),
                review=lambda stored: self._review(stored, rejected),
                exchange=self._exchange,
                marks=self._marks,
                adopt=lambda latest: self._usable(latest, rejected),
                missing=NOT_AUTHORIZED,
            )
            return self._state

    def authorize(self, exchange: Callable[[], TokenPair]) -> None:
        """Store the first pair, traded for an authorization code: under the refresh lease (a running
        service does not refresh meanwhile), replacing whatever was stored."""
        with self._lock:
            self._shared.take_lease(self._seed_state(), lambda stored: self._review(stored, None, force=True))
            try:
                pair = exchange()
            except Exception:
                self._shared.release()
                raise
            self._state = self._shared.store(pair, self._marks)

    def _seed_state(self) -> State:
        """The row a first claim stores: the environment's refresh token, no access token yet."""
        return {"refresh": self._seed, "seed": self._seed_digest, "access": None}

    def _review(self, stored: State, rejected: str | None, *, force: bool = False) -> tuple[State, bool]:
        """The stored state and whether it is usable as is. `force`: never (an authorization code
        replaces it)."""
        if self._seed is not None and stored.get("seed") != self._seed_digest:
            return self._seed_state(), False  # the operator put a new refresh token in the environment
        return stored, self._usable(stored, rejected) and not force

    def _marks(self, now: float) -> State:
        return {"refreshed_at": now, "seed": self._seed_digest}
