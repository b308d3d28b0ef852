"""Handoffs through the real worker and store: on stage, after N days, SLA re-route, return."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import func, select

from adapters.storage.audit import read_audit
from adapters.storage.lives import client_holders
from adapters.storage.queue import claim_jobs
from adapters.storage.tables import assignments
from core.conditions import Equals
from core.model import Absence, Lead, OnAssign, StageRef, Target, TargetKind, TaskTemplate
from core.policy import Continuity, Handoff
from core.ports import WriteKind
from tests.builders import manager, policy, pool, weekdays
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, make_worker, post, update_event

SIGNED = Handoff(
    "contract-signed",
    to="farmers",
    on_stage=StageRef("Договор подписан"),
    keep_hunter_in_field="Хантер",
    unless=Equals("tags", ["VIP"]),
)
MONTH = Handoff("first-month", to="farmers", after_days=30, in_stage=StageRef("Успешно"))
SLA = Handoff(
    "sla", to="next_in_pool", unworked_minutes=15, max_hops=2, then=Target(TargetKind.MANAGER, "head")
)


def handoff_policy(*handoffs: Handoff, **kw):
    ms = [
        manager("ivanova", 101, name="Иванова", schedule=weekdays()),
        manager("petrov", 102, name="Петров", schedule=weekdays()),
        manager("sidorov", 103, name="Сидоров", schedule=weekdays()),
        manager("farmer", 201, name="Фермер", schedule=weekdays()),
        manager("head", 100, name="Руководитель"),
    ]
    pools = [
        pool("sales", ["ivanova", "petrov", "sidorov"]),
        pool("farmers", ["farmer"], **kw.pop("farmers", {})),
    ]
    on_assign = OnAssign(task=TaskTemplate("Связаться с клиентом", 15), note=True)
    return policy(ms, pools, handoffs=handoffs, head_of_sales="head", on_assign=on_assign, **kw)


def setup(engine, *handoffs, **kw):
    crm, clock = FakeCrm(), Clock()
    p = handoff_policy(*handoffs, **kw)
    crm.leads["1"] = Lead(id="1", created_at=clock(), stage="Новый", stage_id="s1", pipeline="Продажи")
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    drain(worker)
    return crm, clock, worker


def drain(worker):
    while worker.run_once():
        pass


def move(engine, crm, clock, stage: str, stage_id: str, n: int = 0, **changes):
    crm.leads["1"] = replace(crm.leads["1"], stage=stage, stage_id=stage_id, **changes)
    post(engine, clock, update_event("1", crm.owner_of("1") or 0, stage=stage_id, n=n))


def purposes(engine):
    with engine.connect() as c:
        return [r.purpose for r in c.execute(select(assignments.c.purpose).order_by(assignments.c.id))]


def test_entering_the_stage_hands_the_deal_over_once_and_keeps_the_hunter(engine):
    crm, clock, worker = setup(engine, SIGNED)
    assert crm.owner_of("1") == 101
    move(engine, crm, clock, "Договор подписан", "s5")
    move(engine, crm, clock, "Договор подписан", "s5", n=1)  # a duplicate event
    drain(worker)
    assert crm.owner_of("1") == 201
    hunter = [w for w in crm.writes if w.kind is WriteKind.FIELD]
    assert [(w.field_name, w.field_value) for w in hunter] == [("Хантер", "Иванова")]
    note = [w.text for w in crm.writes if w.kind is WriteKind.NOTE][-1]
    assert "передача «contract-signed» от Иванова" in note and "выбран: Фермер" in note
    assert purposes(engine) == ["new", "contract-signed"]
    move(engine, crm, clock, "Договор подписан", "s5", n=2, name="renamed")  # staying there
    drain(worker)
    assert purposes(engine) == ["new", "contract-signed"]


def test_an_exception_keeps_a_vip_deal_where_it_is(engine):
    crm, clock, worker = setup(engine, SIGNED)
    move(engine, crm, clock, "Договор подписан", "s5", tags=("VIP",))
    drain(worker)
    assert crm.owner_of("1") == 101
    assert read_audit(engine, lead_id="1", kinds=("handoff_blocked",))


def test_after_n_days_in_the_stage_the_deal_is_handed_over(engine):
    crm, clock, worker = setup(engine, MONTH)
    move(engine, crm, clock, "Успешно", "won")
    drain(worker)
    clock.advance(days=29)
    drain(worker)
    assert crm.owner_of("1") == 101
    clock.advance(days=1, hours=1)
    drain(worker)
    assert crm.owner_of("1") == 201


def test_after_n_days_is_cancelled_if_the_deal_left_the_stage(engine):
    crm, clock, worker = setup(engine, MONTH)
    move(engine, crm, clock, "Успешно", "won")
    drain(worker)
    clock.advance(days=3)
    move(engine, crm, clock, "Возврат", "back")
    drain(worker)
    clock.advance(days=30)
    drain(worker)
    assert crm.owner_of("1") == 101
    assert read_audit(engine, lead_id="1", kinds=("handoff_cancelled",))


def test_an_untouched_lead_is_rerouted_and_never_bounces_back(engine):
    crm, clock, worker = setup(engine, SLA)
    clock.advance(minutes=14)
    drain(worker)
    assert crm.owner_of("1") == 101
    clock.advance(minutes=2)
    drain(worker)
    assert crm.owner_of("1") == 102
    clock.advance(minutes=16)
    drain(worker)
    assert crm.owner_of("1") == 103
    clock.advance(minutes=16)
    drain(worker)
    assert crm.owner_of("1") == 100  # after two hops: the head of sales
    owners = [w.user_id for w in crm.writes if w.kind is WriteKind.RESPONSIBLE]
    assert owners == [101, 102, 103, 100]
    clock.advance(hours=2)
    drain(worker)
    assert purposes(engine) == ["new", "sla:1", "sla:2", "sla:3"]


def test_a_lead_worked_on_in_time_stays(engine):
    crm, clock, worker = setup(engine, SLA)
    clock.advance(minutes=5)
    move(engine, crm, clock, "В работе", "s2")
    drain(worker)
    clock.advance(minutes=20)
    drain(worker)
    assert crm.owner_of("1") == 101
    assert read_audit(engine, lead_id="1", kinds=("sla_ok",))


def test_the_sla_never_moves_a_lead_from_an_owner_listed_in_never_move(engine):
    crm, clock, worker = setup(engine, replace(SLA, never_move=frozenset({"ivanova"})))
    clock.advance(minutes=16)
    drain(worker)
    assert crm.owner_of("1") == 101
    (kept,) = read_audit(engine, lead_id="1", kinds=("handoff_blocked",))
    assert kept.detail["never_move"] == "ivanova"


def test_a_worker_killed_as_the_sla_job_runs_reroutes_exactly_once(engine):
    crm, clock, worker = setup(engine, SLA)
    clock.advance(minutes=16)
    stalled = claim_jobs(engine, "dead-worker", clock(), timedelta(seconds=30), 10)
    assert [j.kind for j in stalled] == ["sla"]
    drain(worker)
    assert crm.owner_of("1") == 101  # the dead worker's lease still holds
    clock.advance(seconds=31)
    drain(worker)
    assert crm.owner_of("1") == 102
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(assignments)).scalar() == 2


def test_leads_a_substitute_got_go_back_when_the_owner_returns(engine):
    crm, clock = FakeCrm(), Clock()
    away = Absence(date(2026, 11, 30), date(2026, 12, 4), substitute="petrov")
    p = handoff_policy(continuity=Continuity(enabled=True))
    p = replace(
        p,
        managers={**p.managers, "ivanova": replace(p.managers["ivanova"], absences=(away,))},
        pools={**p.pools, "sales": replace(p.pools["sales"], return_after_absence=True)},
    )
    crm.leads["1"] = Lead(id="1", created_at=clock(), stage_id="s1", client_owner=101)
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    drain(worker)
    assert crm.owner_of("1") == 102
    clock.now = clock.now.replace(day=7, hour=9, minute=0)  # Monday, Ivanova's first working morning
    drain(worker)
    assert crm.owner_of("1") == 101
    assert purposes(engine) == ["new", "return"]


def client_setup(engine, continuity: Continuity):
    crm, clock = FakeCrm(), Clock()
    p = handoff_policy(SIGNED, continuity=continuity)
    crm.leads["1"] = Lead(id="1", created_at=clock(), stage_id="s1", client_key="amocrm:contact:7")
    crm.leads["2"] = Lead(id="2", created_at=clock(), stage_id="s1")  # no contact, no company: no client
    post(engine, clock, add_lead_event("1"), add_lead_event("2"))
    worker = make_worker(engine, crm, clock, p)
    drain(worker)
    return crm, clock, worker


def holder(engine, key: str) -> int | None:
    with engine.connect() as connection:
        found = client_holders(connection, "amocrm", [key])
    return found[key][0] if key in found else None


def test_the_client_follows_the_deal_into_the_crm_on_every_change_of_holder(engine):
    crm, clock, worker = client_setup(engine, Continuity(enabled=True))
    assert [(w.lead_id, w.user_id) for w in crm.client_writes()] == [("1", 101)]
    move(engine, crm, clock, "Договор подписан", "s5")  # handed to the account manager
    drain(worker)
    assert (
        crm.owner_of("1") == 201
        and crm.client_owners["1"] == 201
        and holder(engine, "amocrm:contact:7") == 201
    )
    # The client write goes after the lead's own responsible: never a client ahead of its deal.
    kinds = [w.kind for w in crm.writes if w.lead_id == "1"]
    at = {
        kind: [n for n, k in enumerate(kinds) if k is kind]
        for kind in (WriteKind.CLIENT, WriteKind.RESPONSIBLE)
    }
    assert (
        at[WriteKind.CLIENT][0] > at[WriteKind.RESPONSIBLE][0]
        and at[WriteKind.CLIENT][1] > at[WriteKind.RESPONSIBLE][1]
    )
    crm.leads["1"] = replace(crm.leads["1"], responsible_user_id=103)  # a person gives it to Сидоров
    post(engine, clock, update_event("1", 103, stage="s5", n=5))
    drain(worker)
    assert [(w.lead_id, w.user_id) for w in crm.client_writes()] == [("1", 101), ("1", 201), ("1", 103)]
    assert [kind for kind, _ in crm.calls].count(WriteKind.CLIENT) == 3


def test_with_sync_client_owner_off_the_holder_is_kept_but_nothing_written(engine):
    crm, clock, worker = client_setup(engine, Continuity(enabled=True, sync_client_owner=False))
    move(engine, crm, clock, "Договор подписан", "s5")
    drain(worker)
    assert crm.owner_of("1") == 201 and holder(engine, "amocrm:contact:7") == 201
    assert crm.client_writes() == [] and WriteKind.CLIENT not in [kind for kind, _ in crm.calls]
