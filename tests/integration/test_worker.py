from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select

from adapters.storage.audit import read_audit
from adapters.storage.outbox import list_dead, replay
from adapters.storage.queue import LeaseLost, claim_jobs, complete
from adapters.storage.tables import assignments, jobs, outbox
from core.ports import WriteKind
from tests.builders import MSK
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import (
    Clock,
    add_lead_event,
    make_worker,
    post,
    seed_leads,
    team_policy,
    update_event,
)


def count(engine, table, *where):
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_a_new_lead_is_decided_written_back_and_explained(engine):
    crm, clock, p = FakeCrm(), Clock(), team_policy()
    seed_leads(crm, ["1"])
    assert post(engine, clock, add_lead_event("1")) == [True]
    make_worker(engine, crm, clock, p).run_once()
    assert crm.owner_of("1") == 101
    kinds = [w.kind for w in crm.writes]
    assert kinds == [WriteKind.RESPONSIBLE, WriteKind.TASK, WriteKind.NOTE]
    task = crm.writes[1]
    assert task.text == "Связаться с клиентом" and task.user_id == 101
    assert task.due == clock.now.replace() + (task.due - clock.now)  # due set from the template
    assert (task.due - clock.now).total_seconds() == 15 * 60
    assert crm.writes[2].text.startswith("leadrouter: правило «default» → пул «sales» (по очереди)")
    trail = [e.kind for e in read_audit(engine, lead_id="1")]
    assert trail == ["received", "decision", "crm_write", "crm_write", "crm_write"]
    decision = read_audit(engine, lead_id="1", kinds=("decision",))[0]
    assert decision.manager == "ivanova" and decision.config_version == "v1"
    assert "выбран: Иванова" in decision.message


def test_a_redelivered_webhook_is_acknowledged_but_not_stored_twice(engine):
    crm, clock = FakeCrm(), Clock()
    seed_leads(crm, ["1"])
    assert post(engine, clock, add_lead_event("1")) == [True]
    assert post(engine, clock, add_lead_event("1"), add_lead_event("1")) == [False, False]
    assert count(engine, jobs) == 1
    make_worker(engine, crm, clock, team_policy()).run_once()
    assert count(engine, assignments) == 1


def test_the_echo_of_our_own_write_causes_no_second_decision(engine):
    crm, clock, p = FakeCrm(), Clock(), team_policy()
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    worker.run_once()
    post(engine, clock, update_event("1", 101))
    worker.run_once()
    assert count(engine, assignments) == 1
    assert [e.kind for e in read_audit(engine, lead_id="1")][-1] == "echo"
    assert len(crm.writes) == 3


def test_a_person_reassigning_the_lead_is_recorded_as_an_override_not_fought(engine):
    crm, clock, p = FakeCrm(), Clock(), team_policy()
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    worker.run_once()
    post(engine, clock, update_event("1", 103))
    worker.run_once()
    assert read_audit(engine, lead_id="1")[-1].kind == "override"
    assert len(crm.writes) == 3


def test_a_stage_move_is_seen_as_a_transition_once(engine):
    crm, clock, p = FakeCrm(), Clock(), team_policy()
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    worker.run_once()
    crm.leads["1"] = replace(crm.leads["1"], stage_id="won")  # the CRM has the deal where its events say
    post(engine, clock, update_event("1", 101, stage="won"), update_event("1", 101, stage="won", n=1))
    while worker.run_once():
        pass
    kinds = [e.kind for e in read_audit(engine, lead_id="1")]
    assert kinds.count("stage_changed") == 1 and kinds.count("echo") == 1


def test_a_lead_arriving_at_night_waits_for_the_morning_shift(engine):
    crm, clock, p = FakeCrm(), Clock(datetime(2026, 12, 2, 22, 0, tzinfo=MSK)), team_policy()
    seed_leads(crm, ["1"], at=clock.now)
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    worker.run_once()
    assert crm.writes == [] and read_audit(engine, lead_id="1")[-1].kind == "wait"
    clock.now = datetime(2026, 12, 3, 8, 59, tzinfo=MSK)
    worker.run_once()
    assert crm.writes == []
    clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=MSK)
    worker.run_once()
    assert crm.owner_of("1") == 101


def test_transient_crm_failures_are_retried_with_backoff(engine):
    crm, clock, p = FakeCrm(transient_failures=1), Clock(), team_policy()
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    worker.run_once()
    assert crm.writes == []  # the responsible batch failed; the task and note wait for it
    retries = read_audit(engine, lead_id="1", kinds=("crm_retry",))
    assert len(retries) == 1 and "503" in retries[0].message
    worker.run_once()
    assert crm.writes == []  # not due yet: backoff holds
    clock.advance(minutes=5)
    worker.run_once()
    assert crm.owner_of("1") == 101 and len(crm.writes) == 3


def test_a_refused_write_becomes_a_dead_letter_that_can_be_replayed(engine):
    crm, clock, p = FakeCrm(refuse_leads={"1"}), Clock(), team_policy()
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))
    worker = make_worker(engine, crm, clock, p)
    worker.run_once()
    dead = list_dead(engine)
    # Only the refused owner is a dead letter: its task and note wait with it, never sent for them.
    assert [d.kind for d in dead] == ["responsible"] and "422" in dead[0].last_error
    assert crm.writes == []
    crm.refuse_leads.clear()
    with engine.begin() as c:
        assert len(replay(c, None, clock())) == 1
    worker.run_once()
    assert crm.owner_of("1") == 101 and list_dead(engine) == []
    assert [w.kind.value for w in crm.writes] == ["responsible", "task", "note"]


def test_writes_are_sent_in_batches_the_port_allows(engine):
    crm, clock, p = FakeCrm(batch=4), Clock(), team_policy()
    ids = [str(i) for i in range(10)]
    seed_leads(crm, ids)
    post(engine, clock, *[add_lead_event(i) for i in ids])
    worker = make_worker(engine, crm, clock, p)
    while worker.run_once():
        pass
    responsible_calls = [n for kind, n in crm.calls if kind is WriteKind.RESPONSIBLE]
    assert responsible_calls == [4, 4, 2]
    assert [crm.owner_of(i) for i in ids] == [101, 102, 103] * 3 + [101]


def test_a_crashed_workers_job_is_taken_again_after_its_lease_and_the_late_one_is_refused(engine):
    crm, clock, p = FakeCrm(), Clock(), team_policy()
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))
    from datetime import timedelta

    stalled = claim_jobs(engine, "dead-worker", clock(), timedelta(seconds=30), 10)
    assert len(stalled) == 1
    survivor = make_worker(engine, crm, clock, p, name="w2")
    survivor.run_once()
    assert crm.writes == []  # the lease still holds
    clock.advance(seconds=31)
    survivor.run_once()
    assert crm.owner_of("1") == 101
    try:
        with engine.begin() as c:
            complete(c, stalled[0], "dead-worker", clock())
        raise AssertionError("a lost lease must not complete")
    except LeaseLost:
        pass
    assert count(engine, assignments) == 1
    assert count(engine, outbox, outbox.c.state == "sent") == 3


def test_a_rate_limited_read_waits_as_told_without_spending_an_attempt(engine):
    from adapters.errors import RateLimited

    crm, clock, p = FakeCrm(), Clock(), team_policy()
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))
    real_fetch, calls = crm.fetch_lead, []

    def limited(lead_id):
        calls.append(lead_id)
        if len(calls) <= 3:
            raise RateLimited("429 Too Many Requests", retry_after=30)
        return real_fetch(lead_id)

    crm.fetch_lead = limited
    worker = make_worker(engine, crm, clock, p)
    for _ in range(3):
        worker.run_once()
        assert crm.writes == []
        clock.advance(seconds=31)
    worker.run_once()
    assert crm.owner_of("1") == 101
    with engine.connect() as c:
        assert c.execute(select(jobs.c.state, jobs.c.attempts)).all() == [("done", 1)]
