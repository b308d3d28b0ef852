"""The sandbox's version of a config, and the emulated account it runs against: every name the
config gives the CRM resolves there (`check-config --online`), and the user's file is untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sandbox.amocrm import AmoEmulator
from sandbox.bitrix24 import Bitrix24Emulator
from sandbox.bitrix24.demo import seed_portal
from sandbox.company import build_account
from webhook_app.cli.check_config import online
from webhook_app.config import load_config
from webhook_app.config.sandbox import derive, layout

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulated() -> Iterator[AmoEmulator]:
    """The account for the example config, running."""
    account, _ = build_account(layout(load_config(ROOT / "config.example.yaml").document))
    with AmoEmulator(rate=None, hook_threads=1, account=account) as emu:
        yield emu


def test_every_name_the_example_uses_resolves_in_the_emulated_account(
    emulated, tmp_path, monkeypatch, capsys
):
    emu, source = emulated, ROOT / "config.example.yaml"
    derived = derive(source.read_bytes(), source=source.name, base_url=emu.url, sla_minutes=2)
    config = tmp_path / "config.yaml"
    config.write_text(derived.text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", emu.admin_token())
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'check.db'}")
    assert online(load_config(config)) == 0, capsys.readouterr().err
    assert "все воронки, этапы, поля и пользователи найдены" in capsys.readouterr().out


def test_the_account_holds_the_managers_as_users_and_an_admin_who_is_none_of_them():
    loaded = load_config(ROOT / "config.example.yaml")
    account, admin = build_account(layout(loaded.document))
    managers = {m.crm_user_id: m.name for m in loaded.document.managers.values()}
    assert {uid: account.users[uid].name for uid in managers} == managers
    assert admin not in managers and account.users[admin].is_admin
    assert account.id == loaded.crm.account_id and account.subdomain == loaded.crm.subdomain


def test_the_sandbox_config_routes_at_any_hour_with_a_short_sla_and_says_so():
    source = ROOT / "config.example.yaml"
    before = source.read_bytes()
    derived = derive(before, source="config.example.yaml", base_url="http://127.0.0.1:9", sla_minutes=2)
    assert source.read_bytes() == before
    data = yaml.safe_load(derived.text)
    assert data["crm"]["base_url"] == "http://127.0.0.1:9" and data["crm"]["account_id"] == 29841576
    assert data["working_hours"] == "always" and "holidays" not in data
    for manager in data["managers"].values():
        assert manager.get("schedule", "always") == "always" and "holidays" not in manager
    assert [h["unworked_minutes"] for h in data["handoffs"] if "unworked_minutes" in h] == [2]
    original = yaml.safe_load(before)
    assert data["rules"] == original["rules"] and data["pools"] == original["pools"]
    assert data["handoffs"][:3] == original["handoffs"][:3]
    assert [m.get("absences") for m in data["managers"].values()] == [
        m.get("absences") for m in original["managers"].values()
    ]  # absences are dates, not hours: kept
    header = derived.text.split("\n\n", 1)[0]
    assert len(derived.changes) == 3 and all(change in header for change in derived.changes)
    assert "unworked_minutes 15 → 2" in header


def test_a_bitrix24_config_stays_bitrix24_pointed_at_the_bundled_emulator(tmp_path):
    source = ROOT / "examples" / "bitrix24.yaml"
    derived = derive(
        source.read_bytes(), source="bitrix24.yaml", base_url="http://127.0.0.1:9", sla_minutes=2
    )
    config = tmp_path / "config.yaml"
    config.write_text(derived.text, encoding="utf-8")
    loaded = load_config(config)
    original = load_config(source)
    assert loaded.crm.type == "bitrix24" and loaded.crm.base_url == "http://127.0.0.1:9"
    assert loaded.crm.model_dump(exclude={"base_url"}) == original.crm.model_dump(exclude={"base_url"})
    assert derived.changes[0] == (  # in the example's language, Russian
        "crm.base_url: http://127.0.0.1:9 — встроенный эмулятор Bitrix24 (портал example.bitrix24.ru)"
    )


def test_every_name_the_bitrix24_example_uses_resolves_in_the_emulated_portal(tmp_path, monkeypatch, capsys):
    source = ROOT / "examples" / "bitrix24.yaml"
    document = load_config(source).document
    with Bitrix24Emulator(domain="example.bitrix24.ru") as emu:
        portal = seed_portal(emu, layout(document))
        derived = derive(source.read_bytes(), source=source.name, base_url=emu.url, sla_minutes=2)
        config = tmp_path / "config.yaml"
        config.write_text(derived.text, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("LEADROUTER_BITRIX24_WEBHOOK_URL", emu.add_webhook(user=portal.form_user))
        monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'check.db'}")
        assert online(load_config(config)) == 0, capsys.readouterr().err
    assert "все воронки, этапы, поля и пользователи найдены" in capsys.readouterr().out
    managers = {m.crm_user_id for m in document.managers.values()}
    assert portal.form_user not in managers  # new deals arrive with someone no rule routes to
    assert portal.ownership_field == "UF_CRM_1712345678" and portal.vip_fields == ("UF_CRM_1712345690",)
