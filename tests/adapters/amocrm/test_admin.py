"""`leadrouter users` and `leadrouter install` against the emulator (§1.7, §2.4)."""

from __future__ import annotations

import pytest

from adapters.admin import HookRegistered, HookRemoved, NothingToRemove, OtherHookFound
from adapters.amocrm.admin import EVENTS, build_admin
from adapters.amocrm.team import read_team
from adapters.errors import AdminRightsNeeded
from tests.web.test_cli_in_russian import offending
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
    with pytest.raises(AdminRightsNeeded, match="admin") as raised:
        admin(db, emu, emu.tokens.long_lived(504141)).list_users()
    assert raised.value.crm_said.startswith("403")  # the CRM's own answer, kept for the reader's words


def test_install_registers_our_hook_for_the_lead_events_and_uninstall_removes_it(db, emu):
    steps = admin(db, emu).install("https://router.example.ru/")
    destination = f"https://router.example.ru/hooks/amocrm/{SECRET}"
    hook = emu.account.webhooks[destination]
    assert (
        hook.settings
        == EVENTS
        == ["add_lead", "update_lead", "status_lead", "responsible_lead", "delete_lead"]
    )
    assert steps == [HookRegistered(destination, tuple(EVENTS))]
    again = admin(db, emu).install("https://router.example.ru")  # upsert: still one hook, now "updated"
    assert again == [HookRegistered(destination, tuple(EVENTS), updated=True)]
    assert len(emu.account.webhooks) == 1
    assert admin(db, emu).uninstall("https://router.example.ru") == [HookRemoved(destination)]
    assert admin(db, emu).uninstall("https://router.example.ru") == [NothingToRemove(destination)]


def test_install_points_out_an_older_hook_without_showing_its_secret(db, emu):
    emu.subscribe("https://old.example.ru/hooks/amocrm/old-secret", ["add_lead"])
    steps = admin(db, emu).install("https://router.example.ru")
    assert OtherHookFound("https://old.example.ru/hooks/amocrm/***") in steps
    assert "old-secret" not in repr(steps)


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
    assert main(["install", "--public-url", "https://router.example.ru", "--show-secret"]) == 0
    assert f"https://router.example.ru/hooks/amocrm/{SECRET}" in capsys.readouterr().out


def test_a_head_of_sales_installs_moves_and_uninstalls_in_russian(cli_env, capsys, emu):
    # The service moved to a new address: install there, the old hook is pointed out, then removed.
    assert main(["install", "--public-url", "https://old.example.ru"]) == 0
    assert capsys.readouterr().out == (
        "вебхук amoCRM зарегистрирован: https://old.example.ru/hooks/amocrm/***\n"
        "события: add_lead, update_lead, status_lead, responsible_lead, delete_lead\n"
    )
    assert main(["install", "--public-url", "https://router.example.ru"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "вебхук amoCRM зарегистрирован: https://router.example.ru/hooks/amocrm/***",
        "события: add_lead, update_lead, status_lead, responsible_lead, delete_lead",
        "обратите внимание: в amoCRM зарегистрирован ещё один вебхук leadrouter: "
        "https://old.example.ru/hooks/amocrm/***",
    ]
    assert main(["install", "--public-url", "https://router.example.ru"]) == 0
    assert capsys.readouterr().out.startswith("вебхук amoCRM уже был, обновлён: https://router.example.ru/")
    assert main(["install", "--public-url", "https://old.example.ru", "--uninstall"]) == 0
    removed = capsys.readouterr().out
    assert removed == "вебхук amoCRM удалён: https://old.example.ru/hooks/amocrm/***\n"
    assert main(["install", "--public-url", "https://old.example.ru", "--uninstall"]) == 0
    again = capsys.readouterr().out
    assert again == "вебхук amoCRM по адресу https://old.example.ru/hooks/amocrm/*** не был зарегистрирован\n"
    assert {
        name: offending(text) for name, text in [("out", out), ("removed", removed), ("again", again)]
    } == {
        "out": [],
        "removed": [],
        "again": [],
    }
    assert list(emu.account.webhooks) == [f"https://router.example.ru/hooks/amocrm/{SECRET}"]


def test_install_speaks_english_when_the_config_says_so(cli_env, capsys):
    cli_env.write_text("language: en\n" + cli_env.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["install", "--public-url", "https://router.example.ru"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "amoCRM webhook registered: https://router.example.ru/hooks/amocrm/***",
        "events: add_lead, update_lead, status_lead, responsible_lead, delete_lead",
    ]


def test_install_without_a_secret_says_so_in_the_configs_language(cli_env, capsys, monkeypatch):
    monkeypatch.delenv("LEADROUTER_WEBHOOK_SECRET")
    assert main(["install", "--public-url", "https://router.example.ru"]) == 2
    assert capsys.readouterr().err == "leadrouter install: сначала задайте LEADROUTER_WEBHOOK_SECRET\n"


def test_a_refused_install_quotes_the_crm_inside_a_russian_sentence(cli_env, capsys, monkeypatch, emu):
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", emu.tokens.long_lived(504141))  # not an admin
    assert main(["install", "--public-url", "https://router.example.ru"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("leadrouter install: не удалось зарегистрировать вебхук: 403")
    assert SECRET not in err and emu.account.webhooks == {}


def test_users_with_a_non_admin_token_says_an_admin_token_is_needed_in_russian(
    cli_env, capsys, monkeypatch, emu
):
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", emu.tokens.long_lived(504141))
    assert main(["users"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "leadrouter users: не удалось получить пользователей CRM: нужен токен администратора аккаунта "
        "(ответ CRM: 403"
    )
    assert "listing users" not in err


def test_the_team_sync_read_with_a_non_admin_token_says_an_admin_is_needed_as_data(db, emu):
    http = admin(db, emu, emu.tokens.long_lived(504141)).http
    with pytest.raises(AdminRightsNeeded) as raised:
        read_team(http)
    assert raised.value.crm_said.startswith("403")  # worded for the reader by the audit, not here
