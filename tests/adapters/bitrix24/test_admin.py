"""`leadrouter install` / `users` for Bitrix24: an app binds its events; a webhook setup is told
exactly what to paste; users come with their departments."""

from __future__ import annotations

from datetime import UTC

import pytest

from adapters.admin import (
    AppTokenNeeded,
    DeleteOutgoingWebhook,
    EventBound,
    EventFailed,
    EventUnbound,
    MissingScopes,
    OutgoingWebhookSteps,
)
from adapters.bitrix24.admin import build_admin
from adapters.bitrix24.oauth import TokenPair, install_tokens
from core.policy import Policy
from tests.web.test_cli_in_russian import offending
from webhook_app.cli.crm import install_lines
from webhook_app.cli.words import CliWords

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
    steps = admin.install(PUBLIC)
    handler = f"{PUBLIC}/hooks/bitrix24/{SECRET}"
    bound = {(h.event, h.url) for h in emulator.portal.handlers}
    events = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMDEALMOVETOCATEGORY"]
    assert bound == {(e, handler) for e in events}
    assert steps == [*(EventBound(e, handler) for e in events), AppTokenNeeded()]
    again = admin.install(PUBLIC)
    assert again == [*(EventBound(e, handler, already=True) for e in events), AppTokenNeeded()]
    assert len(emulator.portal.handlers) == 4


def test_an_app_unbinds_what_it_bound(engine, emulator):
    admin = admin_for(engine, emulator, app=True)
    admin.install(PUBLIC)
    steps = admin.uninstall(PUBLIC)
    assert emulator.portal.handlers == [] and EventUnbound("ONCRMLEADADD", 1) in steps


def test_a_webhook_setup_gets_the_outgoing_webhook_settings_to_paste(engine, emulator):
    steps = admin_for(engine, emulator, app=False).install(PUBLIC)
    handler = f"{PUBLIC}/hooks/bitrix24/{SECRET}"
    assert steps == [
        OutgoingWebhookSteps(
            handler,
            "lead",
            (("ONCRMLEADADD", "add"), ("ONCRMLEADUPDATE", "update"), ("ONCRMLEADDELETE", "delete")),
        )
    ]
    assert emulator.portal.handlers == [] and not emulator.requests("event.bind")
    assert admin_for(engine, emulator, app=False).uninstall(PUBLIC) == [DeleteOutgoingWebhook(handler)]


def test_a_webhook_without_the_needed_scopes_is_warned_about(engine, emulator):
    steps = admin_for(engine, emulator, app=False, scopes=["crm"]).install(PUBLIC)
    assert steps[-1] == MissingScopes(("user", "department", "im"))


def test_users_are_the_active_employees_with_their_departments(engine, emulator):
    emulator.add_department(3, "Отдел продаж")
    emulator.add_user(7, "Мария", "Кузнецова", email="m@x.ru", departments=(3,))
    emulator.add_user(8, "Бывший", active=False)
    users = admin_for(engine, emulator, app=False).list_users()
    assert [(u.id, u.name, u.email, u.department) for u in users] == [
        (7, "Мария Кузнецова", "m@x.ru", "Отдел продаж")
    ]


def words(language: str) -> CliWords:
    return CliWords(Policy(tz=UTC, managers={}, pools={}, rules=()), language)


HANDLER = f"{PUBLIC}/hooks/bitrix24/***"


def test_the_outgoing_webhook_to_paste_is_told_in_russian():
    steps = [
        OutgoingWebhookSteps(
            HANDLER,
            "deal",
            (("ONCRMDEALADD", "add"), ("ONCRMDEALUPDATE", "update"), ("ONCRMDEALDELETE", "delete")),
        ),
        MissingScopes(("user", "im")),
    ]
    lines = [line for step in steps for line in install_lines(step, words("ru"), "Bitrix24")]
    assert lines[0].startswith("Bitrix24: входящий вебхук не может подписаться на события")
    assert f"  URL обработчика:  {HANDLER}   (`install --show-secret` покажет его полностью)" in lines
    assert (
        "  События:          ONCRMDEALADD (создание сделки), ONCRMDEALUPDATE (изменение сделки), "
        "ONCRMDEALDELETE (удаление сделки)" in lines
    )
    assert "«Токен приложения» в LEADROUTER_BITRIX24_APP_TOKEN" in lines[-2]
    assert lines[-1] == "ВНИМАНИЕ: у входящего вебхука нет прав user, im; добавьте их ему."
    assert offending("\n".join(lines[:-1])) == []  # the scopes are Bitrix24's own names


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "ru",
            [
                f"уже подписано: ONCRMLEADADD → {HANDLER}",
                f"подписано: ONCRMLEADUPDATE → {HANDLER}",
                "не удалось подписаться на ONCRMLEADDELETE: 400 ERROR_EVENT: handler is not allowed",
                "Задайте LEADROUTER_BITRIX24_APP_TOKEN: это application_token приложения, который Bitrix24 "
                "присылает при установке.",
                "отписано: ONCRMLEADADD (обработчиков: 1)",
                "не удалось отписаться от ONCRMLEADUPDATE: 400 ERROR_EVENT: handler is not allowed",
                "Bitrix24: удалите исходящий вебхук с обработчиком",
                f"  {HANDLER}",
                "в разделе Разработчикам → Другое → Исходящий вебхук (входящий вебхук не может отписаться "
                "сам).",
            ],
        ),
        (
            "en",
            [
                f"already bound: ONCRMLEADADD → {HANDLER}",
                f"bound: ONCRMLEADUPDATE → {HANDLER}",
                "could not bind ONCRMLEADDELETE: 400 ERROR_EVENT: handler is not allowed",
                "Set LEADROUTER_BITRIX24_APP_TOKEN to the app's application_token (sent at install).",
                "unbound: ONCRMLEADADD (1 handler(s))",
                "could not unbind ONCRMLEADUPDATE: 400 ERROR_EVENT: handler is not allowed",
                "Bitrix24: delete the outgoing webhook whose handler is",
                f"  {HANDLER}",
                "in Developer resources → Other → Outgoing webhook (an incoming webhook cannot unbind).",
            ],
        ),
    ],
)
def test_bindings_are_told_in_the_configs_language(language, expected):
    error = "400 ERROR_EVENT: handler is not allowed"  # the CRM's own words stay as it said them
    steps = [
        EventBound("ONCRMLEADADD", HANDLER, already=True),
        EventBound("ONCRMLEADUPDATE", HANDLER),
        EventFailed("ONCRMLEADDELETE", error),
        AppTokenNeeded(),
        EventUnbound("ONCRMLEADADD", 1),
        EventFailed("ONCRMLEADUPDATE", error, unbinding=True),
        DeleteOutgoingWebhook(HANDLER),
    ]
    assert [line for step in steps for line in install_lines(step, words(language), "Bitrix24")] == expected
