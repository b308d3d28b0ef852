"""The client against the emulator: batches, refusals, echo webhooks, the rate limit and its ban."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.amocrm.webhook import parse_amocrm_webhook
from adapters.errors import Blocked
from core.ports import CrmWrite, WriteKind, WriteStatus
from sandbox.amocrm import ADMIN, AmoEmulator
from tests.adapters.amocrm.conftest import emu_client


def owners(emu, leads) -> set[int]:
    return {emu.account.leads[lead.id].responsible_user_id for lead in leads}


def test_250_responsibles_are_one_patch(db, emu):
    leads = emu.create_leads(250)
    writes = [CrmWrite(WriteKind.RESPONSIBLE, str(lead.id), user_id=504141) for lead in leads]
    results = emu_client(db, emu).write(writes)
    assert {r.status for r in results} == {WriteStatus.OK} and owners(emu, leads) == {504141}
    assert [r.status for r in emu.requests("PATCH", "/api/v4/leads")] == [200]


def test_a_cap_above_what_amocrm_accepts_is_learned_from_its_422(db, emu):
    leads = emu.create_leads(300)
    client = emu_client(db, emu, crm={"batch_size": 300})
    writes = [CrmWrite(WriteKind.RESPONSIBLE, str(lead.id), user_id=504142) for lead in leads]
    assert {r.status for r in client.write(writes)} == {WriteStatus.OK}
    assert [r.status for r in emu.requests("PATCH", "/api/v4/leads")] == [422, 200, 200]
    assert client.batch_size(WriteKind.RESPONSIBLE) == 150


def test_an_inactive_responsible_is_refused_for_good_and_its_neighbours_are_written(db, emu):
    leads = emu.create_leads(3)
    users = [504141, 504160, 504142]  # 504160 is deactivated
    writes = [
        CrmWrite(WriteKind.RESPONSIBLE, str(lead.id), user_id=u) for lead, u in zip(leads, users, strict=True)
    ]
    results = emu_client(db, emu).write(writes)
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.PERMANENT, WriteStatus.OK]
    assert results[1].detail["path"] == "responsible_user_id"
    assert [emu.account.leads[lead.id].responsible_user_id for lead in leads] == [504141, ADMIN, 504142]


def test_tasks_and_notes_land_on_the_lead(db, emu):
    lead = emu.create_lead()
    client = emu_client(db, emu)
    due = datetime.now(UTC) + timedelta(minutes=15)
    client.write(
        [CrmWrite(WriteKind.TASK, str(lead.id), user_id=504141, text="Связаться с клиентом", due=due)]
    )
    client.write([CrmWrite(WriteKind.NOTE, str(lead.id), text="leadrouter: правило default")])
    task, note = emu.tasks_for(lead.id)[0], emu.notes_for(lead.id)[0]
    assert (task["responsible_user_id"], task["text"], task["complete_till"]) == (
        504141,
        "Связаться с клиентом",
        int(due.timestamp()),
    )
    assert note["params"]["text"] == "leadrouter: правило default"


def test_the_hunter_is_kept_in_a_custom_field_by_name(db, emu):
    lead = emu.create_lead()
    emu_client(db, emu).write(
        [CrmWrite(WriteKind.FIELD, str(lead.id), field_name="Хантер", field_value="Иванова")]
    )
    hunter = emu.account.field_by_name("leads", "Хантер").id
    assert emu.account.leads[lead.id].fields[hunter] == [{"value": "Иванова"}]


def test_our_write_echoes_back_as_responsible_and_update_hooks_carrying_what_we_wrote(db, emu, catcher):
    emu.subscribe(catcher.url, ["responsible_lead", "update_lead"])
    lead = emu.create_lead()
    emu_client(db, emu).write([CrmWrite(WriteKind.RESPONSIBLE, str(lead.id), user_id=504143)])
    assert emu.hooks.wait()
    events = [e for _, pairs in catcher.received for e in parse_amocrm_webhook(pairs).events]
    assert sorted(e.action for e in events) == ["responsible", "update"]
    assert {(e.responsible_user_id, e.modified_user_id) for e in events} == {("504143", str(ADMIN))}


def test_seven_a_second_never_gets_a_429_from_an_account_limited_to_seven():
    with AmoEmulator(rate=7, hook_threads=1) as emu:
        lead = emu.create_lead()
        from adapters.storage.engine import make_engine
        from adapters.storage.migrate import upgrade_database

        engine = make_engine("sqlite://")
        upgrade_database(engine)
        client = emu_client(engine, emu, rate=7)
        started = time.monotonic()
        for _ in range(15):
            client.fetch_lead(str(lead.id))
        elapsed = time.monotonic() - started
        assert emu.limiter.limited == 0 and len(emu.log) == 17  # + pipelines and fields, once
        assert elapsed >= 16 / 7 - 0.1


def test_a_client_pushing_too_hard_backs_off_as_told_and_gets_everything_through(db):
    with AmoEmulator(rate=7, hook_threads=1) as emu:
        lead = emu.create_lead()
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            time.sleep(seconds)

        client = emu_client(db, emu, rate=40, sleep=sleep)
        assert all(client.fetch_lead(str(lead.id)) for _ in range(12))
        assert emu.limiter.limited >= 1
        assert any(s >= emu.limiter.retry_after for s in sleeps)


def test_after_the_ban_the_client_stops_calling(db):
    with AmoEmulator(rate=2, hook_threads=1) as emu:
        emu.limiter.ban_after = 1
        lead = emu.create_lead()
        client = emu_client(db, emu, rate=50, sleep=lambda s: None)
        with pytest.raises(Blocked):
            for _ in range(10):
                client.fetch_lead(str(lead.id))
        made = len(emu.log)
        results = client.write([CrmWrite(WriteKind.RESPONSIBLE, str(lead.id), user_id=504141)])
        assert results[0].status is WriteStatus.TRANSIENT and (results[0].retry_after or 0) > 60
        assert len(emu.log) == made


def client_write(lead_id: int | str, user: int) -> CrmWrite:
    return CrmWrite(WriteKind.CLIENT, str(lead_id), user_id=user)


def test_a_client_write_gives_the_leads_contacts_and_company_the_new_holder(db, emu):
    company = emu.add_party("companies", "ООО Вектор", responsible=ADMIN)
    main, second = (emu.add_party("contacts", n, responsible=ADMIN) for n in ("Анна", "Борис"))
    other = emu.add_party("contacts", "Вера", responsible=504143)
    both = emu.create_lead(contacts=[main.id, second.id], company_id=company.id)
    alone = emu.create_lead(contacts=[other.id])
    bare = emu.create_lead()
    client = emu_client(db, emu)
    results = client.write(
        [client_write(both.id, 504144), client_write(alone.id, 504142), client_write(bare.id, 504141)]
    )
    assert [r.status for r in results] == [WriteStatus.OK] * 3
    assert [results[0].detail, results[2].detail] == [
        {"contacts": "2", "companies": "1"},
        {"contacts": "0", "companies": "0"},
    ]
    parties = emu.account.parties
    assert [parties[p.id].responsible_user_id for p in (main, second, company, other)] == [
        504144,
        504144,
        504144,
        504142,
    ]
    assert emu.account.leads[both.id].responsible_user_id == ADMIN  # the lead itself is not touched
    # One read of the leads' links, then one PATCH per kind, each with only id + responsible (§6).
    assert [
        (r.method, r.path) for r in emu.requests() if r.path.startswith("/api/v4/") and "custom" not in r.path
    ] == [
        ("GET", "/api/v4/leads"),
        ("PATCH", "/api/v4/contacts"),
        ("PATCH", "/api/v4/companies"),
    ]
    patch = emu.requests("PATCH", "/api/v4/contacts")[0]
    assert patch.body == [
        {"id": main.id, "responsible_user_id": 504144},
        {"id": second.id, "responsible_user_id": 504144},
        {"id": other.id, "responsible_user_id": 504142},
    ]


def test_a_client_write_for_an_inactive_user_or_a_gone_lead_is_refused_and_the_rest_written(db, emu):
    first, second = (emu.add_party("contacts", n, responsible=ADMIN) for n in ("Анна", "Борис"))
    lead1, lead2 = emu.create_lead(contacts=[first.id]), emu.create_lead(contacts=[second.id])
    results = emu_client(db, emu).write(
        [client_write(lead1.id, 504160), client_write(lead2.id, 504141), client_write(999, 504141)]
    )
    # A gone lead is GONE, not refused: the worker records the lead deleted instead of a dead letter.
    assert [r.status for r in results] == [WriteStatus.PERMANENT, WriteStatus.OK, WriteStatus.GONE]
    assert results[0].detail["path"] == "responsible_user_id"  # 504160 is deactivated
    assert "no such lead" in results[2].error
    assert (
        emu.account.parties[first.id].responsible_user_id,
        emu.account.parties[second.id].responsible_user_id,
    ) == (
        ADMIN,
        504141,
    )


def test_two_hundred_and_fifty_leads_contacts_are_one_patch(db, emu):
    contacts = [emu.add_party("contacts", f"К{n}", responsible=ADMIN) for n in range(250)]
    leads = [emu.create_lead(contacts=[c.id]) for c in contacts]
    results = emu_client(db, emu).write([client_write(lead.id, 504143) for lead in leads])
    assert {r.status for r in results} == {WriteStatus.OK}
    assert {emu.account.parties[c.id].responsible_user_id for c in contacts} == {504143}
    assert len(emu.requests("GET", "/api/v4/leads")) == 2  # 125 ids a list call keeps the URL short
    assert [r.status for r in emu.requests("PATCH", "/api/v4/contacts")] == [200]
    assert emu.requests("PATCH", "/api/v4/companies") == []


def test_the_emulator_refuses_a_contact_patch_as_a_whole_and_an_array_to_one_contact(db, emu):
    contact = emu.add_party("contacts", "Анна", responsible=ADMIN)
    company = emu.add_party("companies", "ООО Ромашка", responsible=ADMIN)
    token = emu.admin_token()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=emu.url, headers=headers) as http:
        refused = http.patch(
            "/api/v4/contacts", json=[{"id": contact.id, "responsible_user_id": 504141}, {"id": company.id}]
        )
        assert refused.status_code == 400
        assert refused.json()["validation-errors"][0]["request_id"] == "1"  # a company is not a contact
        assert (
            http.patch(f"/api/v4/contacts/{contact.id}", json=[{"responsible_user_id": 1}]).status_code == 405
        )
        assert http.patch("/api/v4/contacts", json=[{"id": contact.id}] * 251).status_code == 422
        done = http.patch(f"/api/v4/companies/{company.id}", json={"responsible_user_id": 504142})
        assert done.status_code == 200 and done.json()["id"] == company.id
    assert (
        emu.account.parties[contact.id].responsible_user_id,
        emu.account.parties[company.id].responsible_user_id,
    ) == (
        ADMIN,
        504142,
    )
