"""The team follows the CRM, end to end on amoCRM and on Bitrix24: a pool takes its members from an
amoCRM user group / a Bitrix24 department (with its sub-departments); a member deactivated (fired)
mid-run gets no further lead, the leads already decided for her are routed again — never a dead
letter — and a user added to the group starts getting leads after the next sync, at the pool's
current level. Webhooks reach a real `leadrouter web`; the worker runs here on a clock the test
moves (a sync every few minutes), writing to the emulator through the real CRM client over HTTP.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from sandbox.amocrm import AmoEmulator
from sandbox.bitrix24.emulator import Bitrix24Emulator
from tests.e2e.stack import AmoDriver, Bitrix24Driver, CrmDriver, Service, emulated, service, wait_for
from tests.e2e.test_handoffs_e2e import MovableClock, sla_worker
from webhook_app.pipeline.team_sync import INTERVAL
from webhook_app.pipeline.worker import Worker

HEAD, IVANOVA, PETROV, SIDOROV, SMIRNOVA = 504100, 504141, 504142, 504143, 504145
NEWCOMER = 504146
TEAM = "Отдел продаж"
CONFIG = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: %(crm)s
managers:
  head: {crm_user_id: 504100, name: Руководитель}
pools:
  sales: {members: {%(team)s: %(name)s}, strategy: round_robin}
rules:
  - {name: default, pool: sales}
"""


@pytest.fixture(params=["amocrm", "bitrix24"])
def crm(request) -> Iterator[CrmDriver]:
    with emulated(request.param) as driver:
        if isinstance(driver, Bitrix24Driver):  # the department, with a sub-department in it
            emu = driver.emu
            emu.add_department(1, "Компания")
            emu.add_department(5, TEAM, parent=1)
            emu.add_department(7, "Группа Москва", parent=5)
            for uid, unit in [(HEAD, 1), (IVANOVA, 5), (PETROV, 7), (SIDOROV, 5), (SMIRNOVA, 7), (504144, 1)]:
                emu.move_user(uid, (unit,))
        yield driver  # amoCRM: Иванова, Петров, Сидоров and Смирнова are in the group «Отдел продаж»


def config_for(crm: CrmDriver) -> str:
    team = "crm_group" if crm.name == "amocrm" else "department"
    return CONFIG % {"crm": crm.crm_line(), "team": team, "name": TEAM}


def deactivate(crm: CrmDriver, user: int) -> None:
    if isinstance(crm, AmoDriver):
        crm.emu.deactivate_user(user)
    else:
        assert isinstance(crm, Bitrix24Driver)
        crm.emu.dismiss_user(user)


def hire(crm: CrmDriver, user: int) -> None:
    emu: Any = crm.emu  # type: ignore[attr-defined]
    if isinstance(emu, AmoEmulator):
        emu.add_user(user, "Новикова Юлия", group=TEAM)
    else:
        assert isinstance(emu, Bitrix24Emulator)
        emu.add_user(user, "Юлия", "Новикова", departments=(7,))  # a sub-department counts


class Db:
    """What leadrouter stored, read straight from its database."""

    def __init__(self, svc: Service) -> None:
        self.engine = create_engine(svc.env["LEADROUTER_DATABASE_URL"])

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))


def create(crm: CrmDriver, count: int) -> list[int]:
    made = [crm.create() for _ in range(count)]
    assert crm.idle(), "the CRM's webhooks were not all delivered"
    return made


def decided(crm: CrmDriver, leads: list[int]) -> Callable[[], bool]:
    """Whether every one of `leads` is with a salesperson (not the form's default user)."""
    staff = {IVANOVA, PETROV, SIDOROV, SMIRNOVA, NEWCOMER}
    return lambda: all(crm.owner(n) in staff for n in leads)


def settle(svc: Service, worker: Worker) -> None:
    svc.settle(pump=worker.run_once)


def sync(clock: MovableClock, worker: Worker, svc: Service) -> None:
    """Let the next team sync come due and run."""
    clock.set(clock() + INTERVAL + timedelta(seconds=5))
    worker.process()
    settle(svc, worker)


@pytest.mark.wall_clock_across_processes  # the worker's clock runs ahead of the web process's real now
def test_a_fired_member_gets_no_lead_her_refused_leads_are_rerouted_and_a_newcomer_joins(crm, tmp_path):
    with service(crm, config_for(crm), tmp_path, command="web") as svc:
        clock = MovableClock(datetime.now(UTC))
        worker = sla_worker(svc, clock)
        db = Db(svc)
        worker.keep_reconciling(clock())  # queues the periodic jobs: the first team sync is due now
        settle(svc, worker)
        joined = db.rows("select message from audit where kind = 'team'")
        assert len(joined) == 1 and "joined: " in joined[0].message and "Сидоров" in joined[0].message

        first = create(crm, 8)
        wait_for(decided(crm, first), what="8 leads", pump=worker.run_once)
        settle(svc, worker)
        assert Counter(crm.owner(n) for n in first) == {IVANOVA: 2, PETROV: 2, SIDOROV: 2, SMIRNOVA: 2}

        # Eight more are decided (two for Сидоров, by the turn), then she is fired before the writes go.
        second = create(crm, 8)
        counted = "select count(*) from assignments where purpose = 'new'"
        wait_for(lambda: db.scalar(counted) == 16, what="8 decisions", pump=worker.process)
        chosen = Counter(
            r.crm_user_id for r in db.rows("select crm_user_id from assignments where purpose = 'new'")
        )
        assert chosen[SIDOROV] == 4  # two written, two still on their way
        deactivate(crm, SIDOROV)
        if crm.name == "bitrix24":
            # Bitrix24 documents no refusal of a dismissed ASSIGNED_BY_ID: the sync finds her first,
            # and the two writes on their way are routed again without reaching the portal.
            clock.set(clock() + INTERVAL + timedelta(seconds=5))
            wait_for(
                lambda: db.scalar("select count(*) from audit where kind = 'team'") >= 2,
                what="the sync that finds her dismissed",
                pump=worker.process,
            )
        settle(svc, worker)
        owners = Counter(crm.owner(n) for n in second)
        assert owners[SIDOROV] == 0 and sum(owners.values()) == 8
        assert set(owners) <= {IVANOVA, PETROV, SMIRNOVA}
        refused = db.rows("select lead_id, message from audit where kind = 'owner_refused'")
        assert len(refused) == 2, refused
        if crm.name == "amocrm":
            assert all("NotSupportedChoice" in r.message for r in refused)  # amoCRM said no
        rerouted = db.rows("select manager, reason from assignments where purpose = 'refused:0'")
        assert len(rerouted) == 2 and all("Сидоров" in r.reason for r in rerouted)
        moved = db.rows("select manager, delta from split_adjustments order by id")  # the admin's split
        assert sorted(d for m, d in moved if m == "crm-504143") == [-1, -1] and sum(d for _, d in moved) == 0
        assert db.scalar("select count(*) from outbox where state = 'dead'") == 0

        # The next sync says who left; a newcomer in the group gets leads from the sync after hers.
        sync(clock, worker, svc)
        hire(crm, NEWCOMER)
        third_before = create(crm, 3)
        wait_for(decided(crm, third_before), what="3 leads", pump=worker.run_once)
        assert NEWCOMER not in {crm.owner(n) for n in third_before}  # not before the sync
        sync(clock, worker, svc)
        third = create(crm, 9)
        wait_for(decided(crm, third), what="9 leads", pump=worker.run_once)
        settle(svc, worker)
        owners = Counter(crm.owner(n) for n in third)
        # At the pool's current level: her turn, no burst of catching up, and never Сидоров.
        assert owners[NEWCOMER] in (2, 3) and owners[SIDOROV] == 0
        assert max(owners.values()) - min(owners.values()) <= 1
        team = [r.message for r in db.rows("select message from audit where kind = 'team' order by id")]
        assert any("Сидоров" in m and "left" in m for m in team), team
        assert any("Новикова" in m and "joined" in m for m in team), team
        assert db.scalar("select count(*) from outbox where state = 'dead'") == 0


LOAD = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: %(crm)s
load: {from: crm, overdue_tasks: 1}
managers:
  head: {crm_user_id: 504100, name: Руководитель}
  ivanova: {crm_user_id: 504141, name: Иванова}
  petrov: {crm_user_id: 504142, name: Петров}
  sidorov: {crm_user_id: 504143, name: Сидоров}
pools:
  sales: {members: [ivanova, petrov, sidorov], strategy: least_loaded}
rules:
  - {name: default, pool: sales}
"""


def book(crm: CrmDriver, owner: int, *, open_: int = 0, closed: int = 0, overdue: int = 0) -> None:
    """What the CRM already holds for `owner`, before leadrouter is connected (no webhooks)."""
    past = datetime.now(UTC) - timedelta(days=1)
    if isinstance(crm, AmoDriver):
        account = crm.emu.account
        for n in range(open_ + closed):
            won = {"status_id": 142} if n >= open_ else {}  # won: no longer open
            crm.emu.create_lead(name=f"Старая {owner}-{n}", responsible_user_id=owner, **won)
        with account.lock:
            for _ in range(overdue):
                task = {"id": account.new_id("task"), "responsible_user_id": owner, "is_completed": False}
                account.tasks.append(task | {"complete_till": int(past.timestamp()), "text": "Перезвонить"})
        return
    assert isinstance(crm, Bitrix24Driver)
    for n in range(open_ + closed):
        fields = {"TITLE": f"Старая {owner}-{n}", "ASSIGNED_BY_ID": owner}
        number = crm.emu.create("deal", fields | ({"STAGE_ID": "WON"} if n >= open_ else {}))
    for _ in range(overdue):
        activity = {"id": 90_000 + len(crm.emu.portal.activities), "ownerTypeId": 2, "ownerId": number}
        activity |= {"responsibleId": str(owner), "deadline": past.isoformat(timespec="seconds")}
        crm.emu.portal.activities.append(activity)


@pytest.mark.wall_clock_across_processes
def test_least_loaded_counts_what_is_open_in_the_crm_and_our_own_writes_at_once(crm, tmp_path):
    book(crm, IVANOVA, open_=5, closed=4)  # 5 open
    book(crm, PETROV, open_=1, overdue=3)  # 1 open + 3 overdue tasks at weight 1
    book(crm, SIDOROV, open_=2, closed=6)  # 2 open: the least loaded, though she received the most
    with service(crm, LOAD % {"crm": crm.crm_line()}, tmp_path, command="web") as svc:
        clock = MovableClock(datetime.now(UTC))
        worker = sla_worker(svc, clock)
        worker.keep_reconciling(clock())  # queues the load read, due now
        settle(svc, worker)
        leads = []
        for _ in range(4):  # one at a time: each decision sees the one before
            leads += create(crm, 1)
            wait_for(decided(crm, leads[-1:]), what="a decision", pump=worker.run_once)
            settle(svc, worker)
        # Сидоров 2 → 3 → 4 (our own writes count at once), then Петров (4, fewer today), then Сидоров.
        assert [crm.owner(n) for n in leads] == [SIDOROV, SIDOROV, PETROV, SIDOROV]
        handed = Db(svc).rows("select manager, open from manager_load order by manager")
        assert [tuple(r) for r in handed] == [("petrov", 1), ("sidorov", 3)]  # still what we handed out
