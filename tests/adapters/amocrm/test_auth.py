"""OAuth tokens: refreshed once for all processes, rotated pair stored before use, never shown (§3, §6)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.amocrm.auth import OAuthTokens
from adapters.amocrm.oauth import TokenPair
from adapters.errors import AuthError
from adapters.storage.tables import kv
from sandbox.amocrm import ADMIN
from tests.adapters.amocrm.conftest import FakeTime, emu_client


def oauth_secrets(emu, refresh: str | None = None) -> dict[str, Any]:
    return {
        "amocrm_client_id": emu.tokens.client_id,
        "amocrm_client_secret": emu.tokens.client_secret,
        "amocrm_refresh_token": refresh or emu.tokens.refresh_token(ADMIN),
        "amocrm_redirect_uri": emu.tokens.redirect_uri,
    }


def stored(engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(connection.execute(select(kv.c.value).where(kv.c.key == "amocrm:oauth")).scalar_one())


def test_the_first_call_trades_the_refresh_token_and_stores_the_rotated_pair(engine, emu):
    secrets = oauth_secrets(emu)
    lead = emu.create_lead(name="Сделка")
    client = emu_client(engine, emu, secrets=secrets, clock=emu.account.clock.now)
    assert client.fetch_lead(str(lead.id)) is not None
    state = stored(engine)
    assert emu.tokens.refresh_calls == 1
    assert (
        state["refresh"] != secrets["amocrm_refresh_token"] and emu.tokens.user_of(state["access"]) == ADMIN
    )


def test_the_new_pair_is_on_disk_before_the_first_call_that_uses_it(db, emu):
    seen: list[str] = []

    class Spy(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/api/"):
                seen.append(stored(db)["access"])
            return super().handle_request(request)

    lead = emu.create_lead()
    client = emu_client(db, emu, secrets=oauth_secrets(emu), transport=Spy(), clock=emu.account.clock.now)
    client.fetch_lead(str(lead.id))
    assert seen and emu.tokens.user_of(seen[0]) == ADMIN


def test_a_token_near_expiry_is_refreshed_before_it_is_refused(db, emu):
    lead = emu.create_lead()
    client = emu_client(db, emu, secrets=oauth_secrets(emu), clock=emu.account.clock.now)
    client.fetch_lead(str(lead.id))
    emu.advance(86400 - 300)  # 5 minutes left: not expired yet, but inside the refresh margin
    client.fetch_lead(str(lead.id))
    assert emu.tokens.refresh_calls == 2
    assert [r.status for r in emu.requests(path=f"/api/v4/leads/{lead.id}")] == [200, 200]


def test_a_401_gets_one_refresh_and_one_resend(db, emu):
    lead = emu.create_lead()
    client = emu_client(db, emu, secrets=oauth_secrets(emu), clock=emu.account.clock.now)
    client.fetch_lead(str(lead.id))
    emu.tokens.access.clear()  # the access token stops working before its time
    assert client.fetch_lead(str(lead.id)) is not None
    assert emu.tokens.refresh_calls == 2
    assert [r.status for r in emu.requests(path=f"/api/v4/leads/{lead.id}")] == [200, 401, 200]


def test_a_second_process_uses_the_stored_pair_instead_of_refreshing_again(db, emu):
    secrets = oauth_secrets(emu)
    lead = emu.create_lead()
    emu_client(db, emu, secrets=secrets, clock=emu.account.clock.now).fetch_lead(str(lead.id))
    emu_client(db, emu, secrets=secrets, clock=emu.account.clock.now).fetch_lead(str(lead.id))
    assert emu.tokens.refresh_calls == 1


def test_a_revoked_refresh_token_is_an_auth_error_that_shows_no_secret(db, emu):
    secrets = oauth_secrets(emu)
    emu.tokens.refresh[secrets["amocrm_refresh_token"]] = (ADMIN, True)  # already used elsewhere
    client = emu_client(db, emu, secrets=secrets, clock=emu.account.clock.now)
    with pytest.raises(AuthError) as caught:
        client.fetch_lead("1")
    assert "revoked" in str(caught.value)
    assert all(s not in str(caught.value) for s in secrets.values() if s != emu.tokens.redirect_uri)


def test_a_new_refresh_token_in_the_environment_replaces_the_stored_one(db, emu):
    lead = emu.create_lead()
    emu_client(db, emu, secrets=oauth_secrets(emu), clock=emu.account.clock.now).fetch_lead(str(lead.id))
    fresh = oauth_secrets(emu)  # the operator re-authorised and set a new LEADROUTER_AMOCRM_REFRESH_TOKEN
    emu_client(db, emu, secrets=fresh, clock=emu.account.clock.now).fetch_lead(str(lead.id))
    assert emu.tokens.refresh_calls == 2 and emu.tokens.refresh[fresh["amocrm_refresh_token"]][1]


class Exchanges:
    """A fake token endpoint: rotates pairs, refuses a used refresh token like amoCRM (§6)."""

    def __init__(self, expires_in: int = 86400) -> None:
        self.used: set[str] = set()
        self.calls = 0
        self.expires_in = expires_in

    def __call__(self, refresh: str) -> TokenPair:
        self.calls += 1
        if refresh in self.used:
            raise AuthError("401: amoCRM refused the token request (Token has been revoked)")
        self.used.add(refresh)
        return TokenPair(f"access-{self.calls}", f"refresh-{self.calls}", self.expires_in)


def test_the_refresh_token_is_renewed_at_least_monthly_so_it_never_lapses(db):
    time, exchange = FakeTime(), Exchanges(expires_in=90 * 86400)
    tokens = OAuthTokens(engine=db, refresh_token="seed", exchange=exchange, clock=time, sleep=time.sleep)
    assert tokens.token() == "access-1"
    time.now += 29 * 86400
    assert tokens.token() == "access-1"
    time.now += 2 * 86400
    assert tokens.token() == "access-2" and exchange.calls == 2


def test_after_a_failed_refresh_a_pair_another_process_stored_meanwhile_is_used(db):
    time, exchange = FakeTime(), Exchanges()
    other = OAuthTokens(engine=db, refresh_token="seed", exchange=exchange, clock=time, sleep=time.sleep)

    def slow_then_revoked(refresh: str) -> TokenPair:
        time.now += 31  # our lease ran out while the call hung; the other process refreshed first
        assert other.token() == "access-1"
        return exchange(refresh)  # the token we sent was used meanwhile: revoked

    ours = OAuthTokens(
        engine=db, refresh_token="seed", exchange=slow_then_revoked, clock=time, sleep=time.sleep
    )
    assert ours.token() == "access-1"
    assert stored(db)["refresh"] == "refresh-1"


def test_tokens_and_keys_never_reach_reprs_errors_or_logs(db, emu, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = oauth_secrets(emu)
    lead = emu.create_lead()
    client = emu_client(db, emu, secrets=secrets, clock=emu.account.clock.now)
    client.fetch_lead(str(lead.id))
    emu.tokens.revoke_all()
    with pytest.raises(AuthError) as caught:
        client.fetch_lead(str(lead.id))
    state = stored(db)
    visible = " ".join(
        [repr(client), repr(client.http), repr(client.http.auth), str(caught.value), caplog.text]
    )
    for secret in (
        secrets["amocrm_client_secret"],
        secrets["amocrm_refresh_token"],
        state["refresh"],
        state["access"],
    ):
        assert secret not in visible
    long_lived = emu.admin_token()
    other = emu_client(db, emu, secrets={"amocrm_token": long_lived})
    assert long_lived not in repr(other) + repr(other.http.auth)
