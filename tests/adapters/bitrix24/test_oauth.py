"""An OAuth app's tokens against the emulator: an hour-old token is refreshed once and the call
repeated; the rotating refresh token is refreshed once for every process sharing the database."""

from __future__ import annotations

import logging

import pytest

from adapters.bitrix24.factory import build_client
from adapters.bitrix24.oauth import TokenPair, install_tokens
from adapters.errors import AuthError


def app_client(engine, emu, **secrets):
    keys = {"bitrix24_client_id": "local.app.1", "bitrix24_client_secret": "app-secret-1", **secrets}
    crm = {"type": "bitrix24", "base_url": emu.url, "entity": "lead"}
    return build_client(crm=crm, secrets=keys, engine=engine, oauth_url=f"{emu.url}/oauth/token/")


@pytest.fixture
def installed(engine, emulator):
    access, refresh = emulator.issue_tokens()
    install_tokens(engine, TokenPair(access, refresh))
    emulator.create("lead", {"TITLE": "Первый"})
    return access, refresh


def test_an_installed_app_calls_with_its_access_token(engine, emulator, installed):
    assert app_client(engine, emulator).fetch_lead("lead:1").name == "Первый"
    assert emulator.token_requests == 0 and emulator.log[0].auth == "app"


def test_an_expired_token_is_refreshed_once_and_the_call_repeated(engine, emulator, installed):
    client = app_client(engine, emulator)
    client.fetch_lead("lead:1")
    emulator.portal.clock.advance(3601)  # an hour of emulated time: the portal says expired_token
    assert client.fetch_lead("lead:1") is not None
    assert emulator.token_requests == 1
    assert [e.error for e in emulator.log].count("expired_token") == 1


def test_the_rotated_refresh_token_is_stored_before_use_and_the_old_one_is_dead(engine, emulator, installed):
    _, first_refresh = installed
    client = app_client(engine, emulator)
    emulator.portal.clock.advance(3601)
    client.fetch_lead("lead:1")
    assert first_refresh not in emulator.portal.refresh  # §4.2: rotated
    from sqlalchemy import select

    from adapters.storage.tables import kv

    with engine.connect() as connection:
        stored = connection.execute(select(kv.c.value).where(kv.c.key == "bitrix24:oauth")).scalar_one()
    assert stored["refresh"] in emulator.portal.refresh


def test_two_processes_with_the_same_stale_token_refresh_only_once(engine, emulator, installed):
    first, second = app_client(engine, emulator), app_client(engine, emulator)
    first.fetch_lead("lead:1"), second.fetch_lead("lead:1")
    emulator.portal.clock.advance(3601)
    first.fetch_lead("lead:1")
    second.fetch_lead("lead:1")  # refused once, then adopts the token the first one stored
    assert emulator.token_requests == 1


def test_a_spent_refresh_token_is_an_auth_error_that_says_what_to_do(engine, emulator):
    install_tokens(engine, TokenPair("expired-access", "spent-refresh", expires_in=-1))
    with pytest.raises(AuthError, match="install the app again"):
        app_client(engine, emulator).fetch_lead("lead:1")


def test_a_refresh_token_from_the_environment_seeds_the_store(engine, emulator):
    _, refresh = emulator.issue_tokens()
    emulator.create("lead", {"TITLE": "x"})
    assert app_client(engine, emulator, bitrix24_refresh_token=refresh).fetch_lead("lead:1") is not None
    assert emulator.token_requests == 1


def test_tokens_never_reach_reprs_or_logs(engine, emulator, installed, caplog):
    caplog.set_level(logging.DEBUG)
    client = app_client(engine, emulator)
    emulator.portal.clock.advance(3601)
    client.fetch_lead("lead:1")
    stored = list(emulator.portal.refresh) + list(emulator.portal.access) + [installed[1], "app-secret-1"]
    text = caplog.text + repr(client) + repr(client.transport.credentials) + repr(client.transport)
    assert all(token not in text for token in stored)
