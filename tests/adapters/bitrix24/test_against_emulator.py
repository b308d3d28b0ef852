"""The client against the emulated portal: reads mapped to core leads, writes and their echoes,
paging, users, absences, the shared leaky bucket."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from adapters.bitrix24.factory import build_client
from adapters.errors import PermanentCrmError
from core.ports import CrmWrite, WriteKind, WriteStatus
from sandbox.data import LOSS_REASONS

LONG_AGO = 270 * 86400.0  # seconds before the portal's now: a client from long before the lead


def client_for(engine, emu, *, entity="lead", lookup=True, **crm):
    section = {"type": "bitrix24", "base_url": emu.url, "entity": entity, **crm}
    return build_client(
        crm=section, secrets={"bitrix24_webhook_url": emu.add_webhook()}, engine=engine, lookup_clients=lookup
    )


def old_contact(emu, **fields):
    number = emu.create("contact", fields)
    emu.portal.records["contact"][number]["DATE_CREATE"] = emu.portal.clock.iso(emu.portal.clock() - LONG_AGO)
    return number


def test_a_lead_maps_to_core_terms_with_names_resolved(engine, emulator):
    emulator.add_field("lead", "UF_CRM_5", "Форма собственности", {"1": "Госсектор", "2": "Частная"})
    emulator.add_field("lead", "UF_CRM_6", "ИНН клиента")
    number = emulator.create(
        "lead",
        {
            "TITLE": "Заявка с сайта",
            "STATUS_ID": "IN_PROCESS",
            "OPPORTUNITY": "1200000",
            "SOURCE_ID": "WEBFORM",
            "UTM_SOURCE": "yandex",
            "UTM_CAMPAIGN": "spring",
            "ADDRESS_CITY": "Казань",
            "COMPANY_TITLE": "ООО Ромашка",
            "PHONE": [{"VALUE": "+7 912 000-11-22", "VALUE_TYPE": "WORK"}],
            "EMAIL": [{"VALUE": "a@romashka.ru"}],
            "UF_CRM_5": "1",
            "UF_CRM_6": "7701234567",
            "ASSIGNED_BY_ID": "7",
        },
    )
    lead = client_for(engine, emulator).fetch_lead(f"lead:{number}")
    assert (lead.id, lead.name, lead.price, lead.source) == (
        f"lead:{number}",
        "Заявка с сайта",
        1_200_000.0,
        "WEBFORM",
    )
    assert (lead.stage_id, lead.stage, lead.pipeline_id, lead.pipeline) == (
        "IN_PROCESS",
        "В работе",
        None,
        None,
    )
    assert lead.utm == {"utm_source": "yandex", "utm_campaign": "spring"}
    assert (lead.city, lead.company, lead.phone, lead.email) == (
        "Казань",
        "ООО Ромашка",
        "+7 912 000-11-22",
        "a@romashka.ru",
    )
    assert lead.fields == {"Форма собственности": "Госсектор", "ИНН клиента": "7701234567"}
    assert lead.field_ids == {"UF_CRM_5": "Госсектор", "UF_CRM_6": "7701234567"}
    assert lead.responsible_user_id == 7 and lead.created_at.tzinfo is not None
    assert (lead.region, lead.client_owner, lead.client_key, lead.client_last_seen) == (
        None,
        None,
        None,
        None,
    )


def test_a_lead_from_a_known_phone_carries_the_contacts_responsible(engine, emulator):
    contact = old_contact(emulator, NAME="Иван", PHONE=[{"VALUE": "8 (912) 000 11 22"}], ASSIGNED_BY_ID="12")
    number = emulator.create("lead", {"TITLE": "Снова он", "PHONE": [{"VALUE": "+79120001122"}]})
    lead = client_for(engine, emulator).fetch_lead(f"lead:{number}")
    assert (lead.client_key, lead.client_owner) == (f"contact:{contact}", 12)
    assert lead.client_last_seen is not None


def test_a_contact_created_with_the_lead_is_not_a_repeat_client(engine, emulator):
    contact = emulator.create("contact", {"NAME": "Новый", "ASSIGNED_BY_ID": "12"})
    number = emulator.create("lead", {"TITLE": "Новый", "CONTACT_ID": str(contact)})
    assert client_for(engine, emulator).fetch_lead(f"lead:{number}").client_owner is None


def test_a_deal_has_its_funnel_stage_and_its_contacts_details(engine, emulator):
    contact = old_contact(
        emulator, NAME="Пётр", PHONE=[{"VALUE": "+7 900 1"}], EMAIL=[{"VALUE": "p@x.ru"}], ASSIGNED_BY_ID="15"
    )
    company = emulator.create("company", {"TITLE": "АО Вектор", "ASSIGNED_BY_ID": "18"})
    number = emulator.create(
        "deal",
        {
            "TITLE": "Поставка",
            "CATEGORY_ID": "1",
            "STAGE_ID": "C1:PREPARATION",
            "CONTACT_ID": str(contact),
            "COMPANY_ID": str(company),
        },
    )
    lead = client_for(engine, emulator, entity="deal").fetch_lead(f"deal:{number}")
    assert (lead.pipeline_id, lead.pipeline, lead.stage_id, lead.stage) == (
        "1",
        "Повторные продажи",
        "C1:PREPARATION",
        "Подготовка",
    )
    assert (lead.phone, lead.email, lead.company) == ("+7 900 1", "p@x.ru", "АО Вектор")
    assert (lead.client_key, lead.client_owner) == (f"contact:{contact}", 15)


def test_a_deal_in_a_success_stage_is_won_and_in_a_failure_stage_lost(engine, emulator):
    won = emulator.create("deal", {"TITLE": "Поставка", "OPPORTUNITY": "350000", "SOURCE_ID": "CALL"})
    lost = emulator.create("deal", {"TITLE": "Тендер", "CATEGORY_ID": "1", "STAGE_ID": "C1:PREPARATION"})
    working = emulator.create("deal", {"TITLE": "В работе", "STAGE_ID": "PREPARATION"})
    emulator.update("deal", won, {"STAGE_ID": "WON"})
    emulator.update("deal", lost, {"STAGE_ID": "C1:LOSE"})
    # The portal keeps each deal's semantics with its stage (§2.3), as crm.deal.get shows them.
    assert [emulator.record("deal", n)["STAGE_SEMANTIC_ID"] for n in (won, lost, working)] == ["S", "F", "P"]
    assert [emulator.record("deal", n)["CLOSED"] for n in (won, lost, working)] == ["Y", "Y", "N"]
    deals = client_for(engine, emulator, entity="deal").fetch_leads(
        [f"deal:{n}" for n in (won, lost, working)]
    )
    sold = deals[f"deal:{won}"]
    assert (sold.closed, sold.price, sold.source, sold.stage) == ("won", 350_000.0, "CALL", "Сделка успешна")
    assert deals[f"deal:{lost}"].closed == "lost" and deals[f"deal:{working}"].closed is None
    emulator.update("deal", lost, {"STAGE_ID": "C1:NEW"})  # reopened
    assert client_for(engine, emulator, entity="deal").fetch_lead(f"deal:{lost}").closed is None


def test_a_converted_lead_is_won_and_a_junk_lead_lost(engine, emulator):
    converted = emulator.create("lead", {"TITLE": "A", "STATUS_ID": "CONVERTED", "OPPORTUNITY": "1000"})
    junk = emulator.create("lead", {"TITLE": "B", "STATUS_ID": "JUNK"})
    fresh = emulator.create("lead", {"TITLE": "C"})
    leads = client_for(engine, emulator).fetch_leads([f"lead:{n}" for n in (converted, junk, fresh)])
    assert [leads[f"lead:{n}"].closed for n in (converted, junk, fresh)] == ["won", "lost", None]


def test_a_lost_deal_reads_its_loss_reason_from_the_portals_list_field(engine, emulator):
    reasons = {str(61 + n): name for n, name in enumerate(LOSS_REASONS)}
    emulator.add_field("deal", "UF_CRM_1712345678", "Причина отказа", reasons)
    spam = next(k for k, v in reasons.items() if v == "Спам")
    lost = emulator.create("deal", {"TITLE": "A"})
    emulator.update("deal", lost, {"STAGE_ID": "LOSE", "UF_CRM_1712345678": spam})  # asked on closing
    open_ = emulator.create("deal", {"TITLE": "B", "UF_CRM_1712345678": spam})
    deals = client_for(engine, emulator, entity="deal").fetch_leads([f"deal:{lost}", f"deal:{open_}"])
    assert (deals[f"deal:{lost}"].closed, deals[f"deal:{lost}"].loss_reason) == ("lost", "Спам")
    assert deals[f"deal:{open_}"].loss_reason is None


def test_the_portal_lists_its_deal_user_fields_with_labels_in_the_language_asked(emulator):
    emulator.add_field("deal", "UF_CRM_1712345678", "Причина отказа", {"61": "Дубль", "62": "Спам"})
    url = f"{emulator.add_webhook()}crm.deal.userfield.list.json"
    bare = httpx.post(url, json={"filter": {"FIELD_NAME": "UF_CRM_1712345678"}}, timeout=5).json()
    assert [f["FIELD_NAME"] for f in bare["result"]] == ["UF_CRM_1712345678"]
    assert "EDIT_FORM_LABEL" not in bare["result"][0]  # labels only for a language asked (LANG)
    ru = httpx.post(url, json={"filter": {"LANG": "ru"}}, timeout=5).json()["result"]
    field = next(f for f in ru if f["FIELD_NAME"] == "UF_CRM_1712345678")
    assert (field["ENTITY_ID"], field["USER_TYPE_ID"], field["LIST_COLUMN_LABEL"]) == (
        "CRM_DEAL",
        "enumeration",
        "Причина отказа",
    )
    assert [(i["ID"], i["VALUE"]) for i in field["LIST"]] == [("61", "Дубль"), ("62", "Спам")]


def test_fifty_leads_are_fetched_in_one_get_batch(engine, emulator):
    numbers = [emulator.create("lead", {"TITLE": f"L{n}"}) for n in range(60)]
    client = client_for(engine, emulator, lookup=False)
    leads = client.fetch_leads([f"lead:{n}" for n in numbers] + ["lead:9999"])
    assert len([x for x in leads.values() if x]) == 60 and leads["lead:9999"] is None
    gets = [e for e in emulator.log if "crm.lead.get" in e.commands]
    assert [len(e.commands) for e in gets] == [50, 11]


def test_our_writes_land_and_the_responsible_change_echoes_back_as_an_update_event(
    engine, emulator, receiver
):
    emulator.add_outgoing_webhook(receiver.url, ["ONCRMLEADADD", "ONCRMLEADUPDATE"], token="tok")
    number = emulator.create("lead", {"TITLE": "x"})
    client = client_for(engine, emulator)
    due = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)
    assert (
        client.write([CrmWrite(WriteKind.RESPONSIBLE, f"lead:{number}", user_id=5)])[0].status
        is WriteStatus.OK
    )
    client.write([CrmWrite(WriteKind.TASK, f"lead:{number}", user_id=5, text="Позвонить", due=due)])
    client.write([CrmWrite(WriteKind.NOTE, f"lead:{number}", text="leadrouter: почему")])
    emulator.events.wait_idle()
    assert emulator.record("lead", number)["ASSIGNED_BY_ID"] == "5"
    assert (
        emulator.portal.activities[0]["responsibleId"] == "5"
        and emulator.portal.activities[0]["title"] == "Позвонить"
    )
    assert emulator.portal.comments[0]["COMMENT"] == "leadrouter: почему"
    events = [(f["event"], f["data[FIELDS][ID]"]) for f in receiver.forms]
    assert events == [("ONCRMLEADADD", str(number)), ("ONCRMLEADUPDATE", str(number))]
    assert all(
        "auth[access_token]" not in f and f["auth[application_token]"] == "tok" for f in receiver.forms
    )


def test_a_refusal_of_one_command_leaves_the_rest_of_the_batch_written(engine, emulator):
    a, b = emulator.create("lead", {}), emulator.create("lead", {})
    emulator.batch.refuse("crm.lead.update", b, "ACCESS_DENIED", "Access denied")
    results = client_for(engine, emulator).write(
        [
            CrmWrite(WriteKind.RESPONSIBLE, f"lead:{a}", user_id=3),
            CrmWrite(WriteKind.RESPONSIBLE, f"lead:{b}", user_id=3),
        ]
    )
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.PERMANENT]
    assert results[1].detail == {"code": "ACCESS_DENIED"}


def test_a_batch_of_fifty_one_commands_is_refused_by_the_portal(engine, emulator):
    client = client_for(engine, emulator)
    cmd = {f"c{n}": "server.time" for n in range(51)}
    try:
        client.transport.call("batch", {"halt": 0, "cmd": cmd})
    except PermanentCrmError as exc:
        assert "ERROR_BATCH_LENGTH_EXCEEDED" in str(exc)
    else:
        raise AssertionError("expected ERROR_BATCH_LENGTH_EXCEEDED")


def test_changed_since_reads_every_page_by_id(engine, emulator):
    since = datetime.fromtimestamp(emulator.portal.clock(), UTC) - timedelta(minutes=5)  # the portal's now
    for n in range(120):
        emulator.create("lead", {"TITLE": f"L{n}"})
    changed = client_for(engine, emulator).changed_since(since)
    assert len(changed) == 120 and len({c.lead_id for c in changed}) == 120
    assert len(emulator.requests("crm.lead.list")) == 3  # 50 + 50 + 20, start=-1 and >ID


def test_users_come_with_their_department_and_absences_from_the_chat_profile(engine, emulator):
    emulator.add_department(1, "Отдел продаж")
    emulator.add_user(7, "Мария", "Кузнецова", email="m@x.ru", departments=(1,))
    emulator.add_user(8, "Уволенный", active=False)
    emulator.add_user(9, "Ольга", "Лебедева", absent="2026-12-14T00:00:00+03:00")
    client = client_for(engine, emulator)
    users = {u.id: u for u in client.users()}
    assert (
        set(users) == {7, 9} and users[7].name == "Мария Кузнецова" and users[7].department == "Отдел продаж"
    )
    away = client.absences([7, 9])
    assert away[7] is None and away[9] == datetime(2026, 12, 14, tzinfo=away[9].tzinfo)


def test_several_clients_on_one_database_share_the_portals_bucket(engine):
    from sandbox.bitrix24.emulator import Bitrix24Emulator

    with Bitrix24Emulator(rate=10, burst=10) as emu:
        clients = [client_for(engine, emu, rate_limit_per_second=10, burst=10) for _ in range(3)]
        started = time.monotonic()
        threads = [
            threading.Thread(target=lambda c=c: [c.transport.call("server.time") for _ in range(10)])
            for c in clients
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    assert len(emu.requests("server.time")) == 30
    assert [e for e in emu.log if e.status == 503] == []
    assert elapsed >= (30 - 10) / 10 * 0.95  # the rate-limit bound, never beaten


def test_the_portal_halts_a_batch_at_the_first_failure_only_when_asked(engine, emulator):
    client = client_for(engine, emulator)
    cmd = {"a": "crm.lead.get?id=404", "b": "server.time"}
    kept = client.transport.call("batch", {"halt": 0, "cmd": cmd})["result"]
    halted = client.transport.call("batch", {"halt": 1, "cmd": cmd})["result"]
    assert list(kept["result_error"]) == ["a"] and list(kept["result"]) == ["b"]
    assert list(halted["result_error"]) == ["a"] and halted["result"] == []


def test_a_robot_made_change_reaches_an_app_without_user_tokens(emulator, receiver):
    from sandbox.bitrix24.portal import Handler

    emulator.portal.handlers.append(Handler(9, "ONCRMLEADADD", receiver.url, "app", "app-token-1"))
    emulator.create("lead", {"TITLE": "by a person"})
    emulator.create("lead", {"TITLE": "by a robot"}, robot=True)
    emulator.events.wait_idle()
    tokens = {f["data[FIELDS][ID]"]: "auth[access_token]" in f for f in receiver.forms}
    assert tokens == {"1": True, "2": False}


def test_a_client_write_gives_the_deals_contacts_and_company_the_new_holder(engine, emulator):
    first, second, third = (emulator.create("contact", {"NAME": n, "ASSIGNED_BY_ID": "1"}) for n in "АБВ")
    company = emulator.create("company", {"TITLE": "АО Вектор", "ASSIGNED_BY_ID": "1"})
    both = emulator.create(
        "deal", {"TITLE": "Поставка", "CONTACT_IDS": [first, second], "COMPANY_ID": str(company)}
    )
    single = emulator.create("deal", {"TITLE": "Ремонт", "CONTACT_ID": str(third)})
    bare = emulator.create("deal", {"TITLE": "Без клиента"})
    # The portal names only the primary contact on the deal; every bound one is in contact.items.get.
    assert emulator.record("deal", both)["CONTACT_ID"] == str(first)
    client = client_for(engine, emulator, entity="deal")
    assert client.batch_size(WriteKind.CLIENT) == 25  # two read commands per write fill a batch
    before = len(emulator.log)
    writes = [
        CrmWrite(WriteKind.CLIENT, f"deal:{n}", user_id=u) for n, u in ((both, 15), (single, 18), (bare, 15))
    ]
    results = client.write(writes)
    assert [r.status for r in results] == [WriteStatus.OK] * 3
    assert [r.detail for r in results] == [
        {"contacts": "2", "companies": "1"},
        {"contacts": "1", "companies": "0"},
        {"contacts": "0", "companies": "0"},
    ]
    owners = [emulator.record("contact", n)["ASSIGNED_BY_ID"] for n in (first, second, third)]
    assert [*owners, emulator.record("company", company)["ASSIGNED_BY_ID"]] == ["15", "15", "18", "15"]
    assert emulator.record("deal", both)["ASSIGNED_BY_ID"] == "1"  # the deal itself is not touched
    batches = [e.commands for e in emulator.log[before:]]
    assert batches == [
        ["crm.deal.get", "crm.deal.contact.items.get"] * 3,
        ["crm.contact.update", "crm.contact.update", "crm.company.update", "crm.contact.update"],
    ]


def test_a_refused_contact_update_or_a_gone_deal_refuses_that_client_write_only(engine, emulator):
    first, second = (emulator.create("contact", {"NAME": n}) for n in "АБ")
    refused = emulator.create("deal", {"TITLE": "x", "CONTACT_ID": str(first)})
    written = emulator.create("deal", {"TITLE": "y", "CONTACT_ID": str(second)})
    emulator.batch.refuse("crm.contact.update", first, "ACCESS_DENIED", "Access denied")
    writes = [CrmWrite(WriteKind.CLIENT, f"deal:{n}", user_id=7) for n in (refused, written, 9999)]
    writes.append(CrmWrite(WriteKind.CLIENT, "contact:5", user_id=7))
    results = client_for(engine, emulator, entity="deal").write(writes)
    assert [r.status for r in results] == [
        WriteStatus.PERMANENT,
        WriteStatus.OK,
        WriteStatus.GONE,  # the deal is deleted: recorded so by the worker, not a dead letter
        WriteStatus.PERMANENT,
    ]
    assert (results[0].detail["code"], results[2].detail["code"]) == ("ACCESS_DENIED", "NOT_FOUND")
    assert emulator.record("contact", second)["ASSIGNED_BY_ID"] == "7"
    assert emulator.record("contact", first)["ASSIGNED_BY_ID"] == "1"
