from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from adapters.storage.audit import read_audit
from adapters.storage.tables import inbox
from core.model import Lead
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, make_worker, post, team_policy


def start(engine):
    crm, clock = FakeCrm(), Clock()
    worker = make_worker(engine, crm, clock, team_policy())
    crm.leads["old"] = Lead(id="old", created_at=clock() - timedelta(days=3), stage_id="new")
    with engine.begin() as c:
        from webhook_app.pipeline.reconcile import ensure_reconcile_job

        ensure_reconcile_job(c, "amocrm", clock())
    worker.run_once()  # the first pass only draws the starting line
    return crm, clock, worker


def test_the_first_pass_routes_nothing_that_existed_before_install(engine):
    crm, _, _ = start(engine)
    assert crm.writes == []


def test_a_lead_whose_webhook_was_lost_is_found_and_routed(engine):
    crm, clock, worker = start(engine)
    clock.advance(minutes=1)
    crm.leads["77"] = Lead(id="77", created_at=clock(), stage_id="new")
    clock.advance(minutes=5)
    worker.run_once()  # reconcile stores it
    worker.run_once()  # the lead job decides it
    assert crm.owner_of("77") == 101
    assert read_audit(engine, kinds=("reconciled",))[0].message.startswith("1 event(s)")


def test_a_lead_that_did_arrive_by_webhook_is_not_fed_twice(engine):
    crm, clock, worker = start(engine)
    clock.advance(minutes=1)
    crm.leads["5"] = Lead(id="5", created_at=clock(), stage_id="new")
    post(engine, clock, add_lead_event("5"))
    worker.run_once()
    clock.advance(minutes=5)
    worker.run_once()
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(inbox)).scalar() == 1


def test_a_missed_stage_move_of_a_known_lead_is_noticed(engine):
    crm, clock, worker = start(engine)
    clock.advance(minutes=1)
    crm.leads["9"] = Lead(id="9", created_at=clock(), stage_id="new")
    post(engine, clock, add_lead_event("9"))
    worker.run_once()
    clock.advance(minutes=1)
    crm.leads["9"] = replace(crm.leads["9"], stage_id="won")  # no webhook for this
    crm.touched["9"] = clock()
    clock.advance(minutes=5)
    while worker.run_once():
        pass
    assert [e.kind for e in read_audit(engine, lead_id="9")][-1] == "stage_changed"
