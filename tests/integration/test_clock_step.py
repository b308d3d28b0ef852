"""A wall clock set forward is not time that passed: the SLA timers do not all ring at once.
A worker that was really down as long still re-routes what became due meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from adapters.storage.audit import read_audit
from adapters.storage.tables import assignments
from core.model import Lead
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, make_worker, post
from tests.integration.test_handoffs import SLA, drain, handoff_policy
from tests.integration.test_health_write import services_on
from webhook_app.web.app import create_app

LEADS = [str(n) for n in range(1, 11)]


@dataclass
class SteppingClock(Clock):
    """The test clock with a reading nobody sets: `advance` is time passing, `step` a clock set."""

    seconds: float = 0.0

    def elapsed(self) -> float:
        return self.seconds

    def advance(self, **delta: float) -> None:
        super().advance(**delta)
        self.seconds += timedelta(**delta).total_seconds()

    def step(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def arrive(engine, clock):
    """Ten leads in the last ten minutes, each decided as it came: each has a 15-minute SLA timer."""
    crm, p = FakeCrm(), handoff_policy(SLA)
    worker = make_worker(engine, crm, clock, p)
    for lead_id in LEADS:
        crm.leads[lead_id] = Lead(id=lead_id, created_at=clock(), stage="Новый", stage_id="s1")
        post(engine, clock, add_lead_event(lead_id))
        drain(worker)
        clock.advance(minutes=1)
    return crm, p, worker


def reroutes(engine) -> int:
    with engine.connect() as c:
        return sum(1 for (p,) in c.execute(select(assignments.c.purpose)) if p.startswith("sla"))


def test_a_clock_set_forward_20_minutes_reroutes_nobody(engine, db_url, tmp_path):
    clock = SteppingClock()
    crm, _, worker = arrive(engine, clock)
    owners = {lead_id: crm.owner_of(lead_id) for lead_id in LEADS}
    clock.step(minutes=20)  # NTP (or a person) sets the clock; no time passed for the leads
    drain(worker)
    assert reroutes(engine) == 0 and {i: crm.owner_of(i) for i in LEADS} == owners
    (step,) = read_audit(engine, kinds=("clock_step",))
    assert step.detail["timers"] == 10 and 1199 <= step.detail["seconds"] <= 1201
    assert step.message.startswith("Системные часы переведены вперёд на 1200 с")  # the config's language
    # /healthz shows it.
    health = create_app(services=services_on(db_url, tmp_path)).test_client().get("/healthz").get_json()
    assert health["clock_step"]["seconds"] == 1200 and health["clock_step"]["timers"] == 10
    # The SLAs still ring when their 15 minutes have really passed: the first lead's now.
    clock.advance(minutes=5, seconds=30)
    drain(worker)
    assert reroutes(engine) == 1
    clock.advance(minutes=10)
    drain(worker)
    assert reroutes(engine) == 10


def test_a_second_worker_that_saw_the_same_step_moves_nothing_again(engine):
    clock = SteppingClock()
    crm, p, worker = arrive(engine, clock)
    other = make_worker(engine, crm, clock, p, name="w2")
    other.run_once()  # both have a reading from before the step
    clock.step(minutes=20)
    drain(worker)
    drain(other)
    assert len(read_audit(engine, kinds=("clock_step",))) == 1
    clock.advance(minutes=5, seconds=30)
    drain(other)
    assert reroutes(engine) == 1  # moved by 20 minutes once, not twice


def test_a_worker_down_for_20_minutes_reroutes_what_became_due(engine):
    clock = SteppingClock()
    crm, p, _ = arrive(engine, clock)
    clock.advance(minutes=20)  # the worker was stopped; time really passed
    restarted = make_worker(engine, crm, clock, p, name="w-restarted")
    drain(restarted)
    assert reroutes(engine) == 10
    assert read_audit(engine, kinds=("clock_step",)) == []


def test_a_running_worker_sees_time_that_passed_as_time(engine):
    clock = SteppingClock()
    _, _, worker = arrive(engine, clock)
    clock.advance(minutes=20)  # a long pass, a busy machine: elapsed time moved as much
    drain(worker)
    assert reroutes(engine) == 10
    assert read_audit(engine, kinds=("clock_step",)) == []
