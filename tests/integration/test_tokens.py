"""The OAuth token store both CRMs share (adapters.storage.tokens): one exchange for every process, the
second one re-reads under the lock and uses the first one's pair; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from adapters.errors import AuthError
from adapters.storage.tokens import SharedTokens, State, load_tokens, pair_state, save_tokens


@dataclass(frozen=True)
class Pair:
    access_token: str
    refresh_token: str
    expires_in: float = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.on_sleep: list = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        while self.on_sleep:
            self.on_sleep.pop(0)()


def shared(engine, holder: str, clock: Clock) -> SharedTokens:
    return SharedTokens(
        engine=engine, key="crm:oauth", holder=holder, crm="CRM", clock=clock, sleep=clock.sleep
    )


def review_usable(now: Clock):
    def review(stored: State) -> tuple[State, bool]:
        return stored, bool(stored.get("access")) and now() < float(stored.get("expires_at", 0))

    return review


def test_a_saved_pair_is_loaded_back_under_its_own_key(engine):
    assert load_tokens(engine, "crm:oauth") == {}
    save_tokens(engine, "crm:oauth", pair_state(Pair("a1", "r1"), 100.0), now=100.0)
    save_tokens(engine, "crm:oauth", pair_state(Pair("a2", "r2"), 200.0, seed="x"), now=200.0)
    assert load_tokens(engine, "crm:oauth") == {
        "access": "a2",
        "refresh": "r2",
        "expires_at": 3800.0,
        "seed": "x",
    }
    assert load_tokens(engine, "other:oauth") == {}


def test_a_process_that_waited_for_the_lease_uses_the_pair_the_holder_stored(engine):
    clock = Clock()
    save_tokens(engine, "crm:oauth", pair_state(Pair("old", "r0", expires_in=-1), clock.now), now=clock.now)
    first, second = shared(engine, "first", clock), shared(engine, "second", clock)
    state, mine = first.take_lease({}, review_usable(clock))
    assert mine and state["refresh"] == "r0"
    # While the second waits for the lease, the first stores its refreshed pair.
    clock.on_sleep.append(lambda: first.store(Pair("new", "r1"), lambda now: {}))
    calls: list[str] = []

    def exchange(refresh: str) -> Pair:
        calls.append(refresh)
        return Pair("mine", "r2")

    got = second.refresh(
        seed={},
        review=review_usable(clock),
        exchange=exchange,
        marks=lambda now: {},
        adopt=lambda s: True,
        missing="none",
    )
    assert got["access"] == "new" and calls == []
    assert load_tokens(engine, "crm:oauth")["refresh"] == "r1"


def test_a_failed_exchange_lets_the_lease_go(engine):
    clock = Clock()
    save_tokens(engine, "crm:oauth", pair_state(Pair("old", "r0", expires_in=-1), clock.now), now=clock.now)
    tokens = shared(engine, "first", clock)

    def refused(refresh: str) -> Pair:
        raise AuthError("refused")

    with pytest.raises(AuthError, match="refused"):
        tokens.refresh(
            seed={},
            review=review_usable(clock),
            exchange=refused,
            marks=lambda now: {},
            adopt=lambda s: True,
            missing="-",
        )
    assert "holder" not in load_tokens(engine, "crm:oauth")
    _, mine = shared(engine, "second", clock).take_lease({}, review_usable(clock))
    assert mine and clock.now == 1_000_000.0  # taken at once, no wait


def test_no_refresh_token_is_an_auth_error_with_the_crms_message(engine):
    tokens = shared(engine, "first", Clock())
    with pytest.raises(AuthError, match="install again"):
        tokens.refresh(
            seed={},
            review=lambda s: (s, False),
            exchange=lambda r: Pair("a", "r"),
            marks=lambda now: {},
            adopt=lambda s: True,
            missing="install again",
        )
    assert "holder" not in load_tokens(engine, "crm:oauth")


def test_the_store_shows_no_secret(engine):
    clock = Clock()
    save_tokens(
        engine, "crm:oauth", pair_state(Pair("secret-access", "secret-refresh"), clock.now), now=clock.now
    )
    tokens = shared(engine, "first", clock)
    assert "secret" not in repr(tokens)
