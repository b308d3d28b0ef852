"""A task sent before a crash that lost the CRM's answer is found in the CRM, not sent twice —
against both emulators, through the real clients and the worker's outbox sender."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from adapters.amocrm.factory import build_client as amo_client
from adapters.bitrix24.factory import build_client as b24_client
from adapters.storage.outbox import enqueue_writes
from adapters.storage.tables import audit, outbox
from core.ports import CrmWrite, WriteKind
from sandbox.amocrm import AmoEmulator
from sandbox.bitrix24.emulator import Bitrix24Emulator
from tests.integration.helpers import Clock
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.flusher import Flusher

DUE = datetime(2026, 12, 2, 9, 15, 30, 123456, tzinfo=UTC)  # microseconds: the CRM keeps seconds only
TEXT = "Связаться с клиентом"


def amocrm_side(engine):
    emu = AmoEmulator(rate=None).start()
    crm = {"type": "amocrm", "base_url": emu.url, "rate_limit_per_second": 1000}
    client = amo_client(crm=crm, secrets={"amocrm_token": emu.admin_token()}, engine=engine)
    leads = [str(emu.create_lead().id) for _ in range(3)]
    return emu, client, leads, 504141, lambda lead: len(emu.tasks_for(int(lead)))


def bitrix24_side(engine):
    emu = Bitrix24Emulator().__enter__()
    section = {"type": "bitrix24", "base_url": emu.url, "entity": "lead"}
    client = b24_client(crm=section, secrets={"bitrix24_webhook_url": emu.add_webhook()}, engine=engine)
    leads = [f"lead:{emu.create('lead', {'TITLE': f'Заявка {n}'})}" for n in range(3)]
    number = {lead: int(lead.split(":")[1]) for lead in leads}

    def tasks(lead: str) -> int:
        return sum(1 for a in emu.portal.activities if int(a.get("ownerId") or 0) == number[lead])

    return emu, client, leads, 7, tasks


@pytest.mark.parametrize("side", [amocrm_side, bitrix24_side], ids=["amocrm", "bitrix24"])
def test_a_task_whose_answer_was_lost_in_a_crash_is_not_sent_twice(engine, side):
    emu, client, leads, user, tasks = side(engine)
    try:
        clock = Clock(now=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
        ctx = JobContext(engine=engine, crm=client, policy=lambda: None, clock=clock, worker="w")  # type: ignore[arg-type, return-value]
        flusher = Flusher(ctx, timedelta(seconds=60), 8, random.Random(1))
        landed, lost, other = leads
        with engine.begin() as connection:
            for lead in (landed, lost):
                enqueue_writes(
                    connection, client.name, [CrmWrite(WriteKind.TASK, lead, user, TEXT, DUE)], clock(), None
                )
        assert flusher.flush() == 2 and tasks(landed) == tasks(lost) == 1
        # The worker died after the CRM took `landed` but before recording it; `lost` it had claimed
        # and never sent (killed before the call): both rows stay `sending` until their lease expires.
        with engine.begin() as connection:
            connection.execute(
                update(outbox).values(state="sending", lease_expires=clock() + timedelta(seconds=60))
            )
        emu_forget(emu, lost)
        # A task just like it for another lead, or of another text, is not ours.
        with engine.begin() as connection:
            enqueue_writes(
                connection, client.name, [CrmWrite(WriteKind.TASK, other, user, TEXT, DUE)], clock(), None
            )
        clock.advance(seconds=61)
        assert flusher.flush() == 3
        assert (tasks(landed), tasks(lost), tasks(other)) == (1, 1, 1)
        with engine.connect() as connection:
            assert {s for (s,) in connection.execute(select(outbox.c.state))} == {"sent"}
            said = [
                m for (m,) in connection.execute(select(audit.c.message).where(audit.c.lead_id == landed))
            ]
        assert said[-1] == "task already in the CRM (an earlier attempt); not sent again"
    finally:
        client.close() if hasattr(client, "close") else None
        emu.stop() if isinstance(emu, AmoEmulator) else emu.__exit__(None, None, None)


def emu_forget(emu, lead: str) -> None:
    """Take back the task of `lead`: as if the killed worker never sent it."""
    if isinstance(emu, AmoEmulator):
        emu.account.tasks[:] = [t for t in emu.account.tasks if str(t.get("entity_id")) != lead]
    else:
        number = int(lead.split(":")[1])
        emu.portal.activities[:] = [a for a in emu.portal.activities if int(a.get("ownerId") or 0) != number]
