"""The client against the emulator: batches, refusals, echo webhooks, the rate limit and its ban."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

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
