"""`leadrouter users` and `leadrouter install` against the emulator (§1.7, §2.4)."""

from __future__ import annotations

import pytest

from adapters.amocrm.admin import EVENTS, build_admin
from adapters.errors import PermanentCrmError
from webhook_app.cli.main import main

SECRET = "hook-Secret-42"


def admin(db, emu, token: str | None = None):
    crm = {"type": "amocrm", "base_url": emu.url, "rate_limit_per_second": 1000}
    secrets = {"amocrm_token": token or emu.admin_token(), "webhook_secret": SECRET}
    return build_admin(crm=crm, secrets=secrets, engine=db)


def test_users_are_the_active_paid_ones_with_their_group(db, emu):
    users = admin(db, emu).list_users()
    assert [u.id for u in users] == [504100, 504141, 504142, 504143, 504144]  # no free seat, no fired user
    ivanova = next(u for u in users if u.id == 504141)
    assert (ivanova.name, ivanova.email, ivanova.department) == (
        "Иванова Анна",
        "ivanova@example.ru",
        "Отдел продаж",
    )


def test_listing_users_with_a_non_admin_token_says_an_admin_is_needed(db, emu):
    with pytest.raises(PermanentCrmError, match="admin"):
        admin(db, emu, emu.tokens.long_lived(504141)).list_users()


def test_install_registers_our_hook_for_the_lead_events_and_uninstall_removes_it(db, emu):
    lines = admin(db, emu).install("https://router.example.ru/")
    destination = f"https://router.example.ru/hooks/amocrm/{SECRET}"
    hook = emu.account.webhooks[destination]
    assert (
        hook.settings
        == EVENTS
        == ["add_lead", "update_lead", "status_lead", "responsible_lead", "delete_lead"]
    )
    assert lines[0] == f"amoCRM webhook registered: {destination}"
    assert admin(db, emu).install("https://router.example.ru") == lines  # upsert: still one hook
    assert len(emu.account.webhooks) == 1
    assert admin(db, emu).uninstall("https://router.example.ru") == [f"amoCRM webhook removed: {destination}"]
    assert admin(db, emu).uninstall("https://router.example.ru") == [
        f"no amoCRM webhook was registered for {destination}"
    ]


def test_install_points_out_an_older_hook_without_showing_its_secret(db, emu):
    emu.subscribe("https://old.example.ru/hooks/amocrm/old-secret", ["add_lead"])
    lines = admin(db, emu).install("https://router.example.ru")
    assert "note: another leadrouter hook is registered: https://old.example.ru/hooks/amocrm/***" in lines
    assert not any("old-secret" in line for line in lines)


@pytest.fixture
def cli_env(tmp_path, monkeypatch, emu):
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
timezone: Europe/Moscow
crm: {{type: amocrm, base_url: "{emu.url}", account_id: {emu.account.id}}}
managers:
  ivanova: {{crm_user_id: 504141}}
pools:
  sales: {{members: [ivanova], strategy: round_robin}}
rules:
  - {{name: default, pool: sales}}
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADROUTER_CONFIG", str(config))
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'lr.db'}")
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", emu.admin_token())
    monkeypatch.setenv("LEADROUTER_WEBHOOK_SECRET", SECRET)
    return config


def test_the_users_command_prints_a_ready_managers_block(cli_env, capsys):
    assert main(["users"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("managers:\n")
    assert "  ivanova_anna:  # ivanova@example.ru · Отдел продаж\n    crm_user_id: 504141\n" in out
    assert "504150" not in out and "504160" not in out


def test_the_install_command_registers_the_hook_and_hides_the_secret(cli_env, capsys, emu):
    assert main(["install", "--public-url", "https://router.example.ru"]) == 0
    out = capsys.readouterr().out
    assert "https://router.example.ru/hooks/amocrm/***" in out and SECRET not in out
    assert f"https://router.example.ru/hooks/amocrm/{SECRET}" in emu.account.webhooks
