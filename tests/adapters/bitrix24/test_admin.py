"""`leadrouter install` / `users` for Bitrix24: an app binds its events; a webhook setup is told
exactly what to paste; users come with their departments."""

from __future__ import annotations

from adapters.bitrix24.admin import build_admin
from adapters.bitrix24.oauth import TokenPair, install_tokens

PUBLIC = "https://leadrouter.example.com"
SECRET = "hook-secret-Zq7"


def admin_for(engine, emu, *, app: bool, entity: str = "lead", scopes=None):
    crm = {"type": "bitrix24", "base_url": emu.url, "entity": entity}
    if app:
        install_tokens(engine, TokenPair(*emu.issue_tokens()))
        secrets = {"bitrix24_client_id": "local.app.1", "bitrix24_client_secret": "app-secret-1"}
    else:
        secrets = {"bitrix24_webhook_url": emu.add_webhook(scopes=scopes)}
    return build_admin(
        crm=crm,
        secrets=secrets | {"webhook_secret": SECRET},
        engine=engine,
        oauth_url=f"{emu.url}/oauth/token/",
    )


def test_an_app_binds_the_deal_events_to_our_hook_once(engine, emulator):
    admin = admin_for(engine, emulator, app=True, entity="deal")
    lines = admin.install(PUBLIC)
    handler = f"{PUBLIC}/hooks/bitrix24/{SECRET}"
    bound = {(h.event, h.url) for h in emulator.portal.handlers}
    events = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMDEALMOVETOCATEGORY"]
    assert bound == {(e, handler) for e in events}
    assert sum(line.startswith("bound:") for line in lines) == 4
    again = admin.install(PUBLIC)
    assert (
        sum(line.startswith("already bound:") for line in again) == 4 and len(emulator.portal.handlers) == 4
    )


def test_an_app_unbinds_what_it_bound(engine, emulator):
    admin = admin_for(engine, emulator, app=True)
    admin.install(PUBLIC)
    lines = admin.uninstall(PUBLIC)
    assert emulator.portal.handlers == [] and "unbound: ONCRMLEADADD (1 handler(s))" in lines


def test_a_webhook_setup_gets_the_outgoing_webhook_settings_to_paste(engine, emulator):
    lines = "\n".join(admin_for(engine, emulator, app=False).install(PUBLIC))
    assert f"Handler URL:  {PUBLIC}/hooks/bitrix24/{SECRET}" in lines
    assert (
        "ONCRMLEADADD (Lead created), ONCRMLEADUPDATE (Lead updated), ONCRMLEADDELETE (Lead deleted)" in lines
    )
    assert "LEADROUTER_BITRIX24_APP_TOKEN" in lines and "WARNING" not in lines
    assert emulator.portal.handlers == [] and not emulator.requests("event.bind")


def test_a_webhook_without_the_needed_scopes_is_warned_about(engine, emulator):
    lines = admin_for(engine, emulator, app=False, scopes=["crm"]).install(PUBLIC)
    assert (
        lines[-1] == "WARNING: the incoming webhook lacks the scope(s) user, department, im; add them to it."
    )


def test_users_are_the_active_employees_with_their_departments(engine, emulator):
    emulator.add_department(3, "Отдел продаж")
    emulator.add_user(7, "Мария", "Кузнецова", email="m@x.ru", departments=(3,))
    emulator.add_user(8, "Бывший", active=False)
    users = admin_for(engine, emulator, app=False).list_users()
    assert [(u.id, u.name, u.email, u.department) for u in users] == [
        (7, "Мария Кузнецова", "m@x.ru", "Отдел продаж")
    ]
