"""`leadrouter auth --code CODE` against the emulator: the code traded once, the pair stored where
refreshes keep it, later calls working with it, no secret ever printed (§3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.amocrm.factory import build_client
from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from adapters.storage.tables import kv
from sandbox.amocrm import ADMIN
from webhook_app.cli.main import main

CONFIG = """
timezone: Europe/Moscow
crm: {type: amocrm, base_url: "%s"}
managers:
  ivanova: {crm_user_id: 504141}
pools:
  sales: {members: [ivanova], strategy: round_robin}
rules:
  - {name: default, pool: sales}
"""


@pytest.fixture
def oauth_env(tmp_path, monkeypatch, emu):
    """An admin's shell: the config, our database, the integration's keys — no token of any kind."""
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG % emu.url, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("TOKEN", "REFRESH_TOKEN"):
        monkeypatch.delenv(f"LEADROUTER_AMOCRM_{name}", raising=False)
    monkeypatch.setenv("LEADROUTER_CONFIG", str(config))
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'lr.db'}")
    monkeypatch.setenv("LEADROUTER_AMOCRM_CLIENT_ID", emu.tokens.client_id)
    monkeypatch.setenv("LEADROUTER_AMOCRM_CLIENT_SECRET", emu.tokens.client_secret)
    monkeypatch.setenv("LEADROUTER_AMOCRM_REDIRECT_URI", emu.tokens.redirect_uri)
    return tmp_path


def stored(tmp_path) -> dict:
    engine = make_engine(f"sqlite:///{tmp_path / 'lr.db'}")
    with engine.connect() as connection:
        value = connection.execute(select(kv.c.value).where(kv.c.key == "amocrm:oauth")).scalar_one()
    engine.dispose()
    return dict(value)


def service_client(tmp_path, emu):
    """The worker's client as `serve` builds it from the same environment: keys, no refresh token."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lr.db'}")
    upgrade_database(engine)
    secrets = {
        "amocrm_client_id": emu.tokens.client_id,
        "amocrm_client_secret": emu.tokens.client_secret,
        "amocrm_redirect_uri": emu.tokens.redirect_uri,
    }
    crm = {"type": "amocrm", "base_url": emu.url}
    return build_client(crm=crm, secrets=secrets, engine=engine, clock=emu.account.clock.now)


def secrets_in(text: str, emu, code: str, state: dict) -> list[str]:
    values = [code, emu.tokens.client_secret, state.get("access"), state.get("refresh")]
    return [v for v in values if v and v in text]


def test_a_code_is_traded_for_a_pair_that_later_calls_use(oauth_env, emu, capsys):
    # `--code=…`: the emulator's codes are URL-safe base64 and may start with "-", which argparse
    # would take for an option after a separate `--code`.
    code = emu.tokens.code(ADMIN)
    assert main(["auth", f"--code={code}"]) == 0
    out = capsys.readouterr()
    assert "amoCRM authorized" in out.out and "account: Пример" in out.out
    state = stored(oauth_env)
    assert emu.tokens.user_of(state["access"]) == ADMIN and state["refresh"] in emu.tokens.refresh
    assert secrets_in(out.out + out.err, emu, code, state) == []
    lead = emu.create_lead(name="После авторизации")
    client = service_client(oauth_env, emu)
    assert client.fetch_lead(str(lead.id)).name == "После авторизации"
    assert len(emu.requests("POST", "/oauth2/access_token")) == 1  # the stored access token served it
    emu.advance(86400)  # a day later the access token has expired: the stored refresh token renews it
    assert client.fetch_lead(str(lead.id)) is not None
    assert emu.tokens.refresh_calls == 1 and stored(oauth_env)["refresh"] != state["refresh"]


def test_a_used_code_is_refused_with_amocrms_message_and_the_stored_pair_stays(oauth_env, emu, capsys):
    code = emu.tokens.code(ADMIN)
    assert main(["auth", f"--code={code}"]) == 0
    first = stored(oauth_env)
    capsys.readouterr()
    assert main(["auth", f"--code={code}"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith(
        "leadrouter auth: 400: amoCRM refused the token request (Authorization code has"
    )
    assert "works once and for 20 minutes" in out.err and "Traceback" not in out.err
    assert secrets_in(out.err, emu, code, first) == []
    assert {k: v for k, v in stored(oauth_env).items() if k in ("access", "refresh")} == {
        "access": first["access"],
        "refresh": first["refresh"],
    }


def test_an_expired_code_is_refused(oauth_env, emu, capsys):
    code = emu.tokens.code(ADMIN)
    emu.advance(21 * 60)
    assert main(["auth", f"--code={code}"]) == 1
    assert "Authorization code has expired" in capsys.readouterr().err


def test_a_wrong_client_secret_is_refused_without_showing_it(oauth_env, emu, monkeypatch, capsys):
    monkeypatch.setenv("LEADROUTER_AMOCRM_CLIENT_SECRET", "not-the-Secret-77")
    assert main(["auth", f"--code={emu.tokens.code(ADMIN)}"]) == 1
    err = capsys.readouterr().err
    assert "401" in err and "Client authentication failed" in err and "not-the-Secret-77" not in err


def test_without_the_integrations_keys_it_says_which_are_needed(oauth_env, monkeypatch, capsys):
    monkeypatch.delenv("LEADROUTER_AMOCRM_CLIENT_SECRET")
    assert main(["auth", "--code", "whatever-code"]) == 1
    assert "LEADROUTER_AMOCRM_CLIENT_SECRET" in capsys.readouterr().err


def test_a_long_lived_token_in_the_environment_is_pointed_out(oauth_env, emu, monkeypatch, capsys):
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", emu.admin_token())
    assert main(["auth", f"--code={emu.tokens.code(ADMIN)}"]) == 1
    assert "LEADROUTER_AMOCRM_TOKEN" in capsys.readouterr().err


def test_before_any_code_the_service_says_how_to_authorize(oauth_env, emu):
    from adapters.errors import AuthError

    with pytest.raises(AuthError, match="leadrouter auth --code"):
        service_client(oauth_env, emu).fetch_lead("1")


def test_a_refresh_token_already_in_the_environment_gives_way_to_the_code(
    oauth_env, emu, monkeypatch, capsys
):
    old = emu.tokens.refresh_token(ADMIN)
    monkeypatch.setenv("LEADROUTER_AMOCRM_REFRESH_TOKEN", old)
    assert main(["auth", f"--code={emu.tokens.code(ADMIN)}"]) == 0
    assert "LEADROUTER_AMOCRM_REFRESH_TOKEN is no longer needed" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{oauth_env / 'lr.db'}")
    secrets = {
        "amocrm_client_id": emu.tokens.client_id,
        "amocrm_client_secret": emu.tokens.client_secret,
        "amocrm_redirect_uri": emu.tokens.redirect_uri,
        "amocrm_refresh_token": old,
    }
    client = build_client(crm={"type": "amocrm", "base_url": emu.url}, secrets=secrets, engine=engine)
    lead = emu.create_lead()
    assert client.fetch_lead(str(lead.id)) is not None
    assert emu.tokens.refresh_calls == 0  # the code's pair was used, the old refresh token left alone
