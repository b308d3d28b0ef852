"""Claimed lead and event jobs settled in one transaction: the same outcome as one job at a time."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select, update

from adapters.storage.audit import read_audit
from adapters.storage.intake import IncomingEvent, store_groups
from adapters.storage.tables import assignments, jobs, lead_seen, outbox
from core.ports import WriteKind
from tests.builders import run
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, post, seed_leads, team_policy, update_event
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.worker import Worker, WorkerOptions

USERS = {"ivanova": 101, "petrov": 102, "sidorov": 103}


def worker_for(engine, crm, clock, policy, claim_batch=500, name="w1") -> Worker:
    ctx = JobContext(engine=engine, crm=crm, policy=lambda: policy, clock=clock, worker=name)
    options = WorkerOptions(lease=timedelta(seconds=30), claim_batch=claim_batch)
    return Worker(ctx, options, rng=random.Random(7))


def owners(engine) -> dict[str, str]:
    with engine.connect() as c:
        return dict(c.execute(select(assignments.c.lead_id, assignments.c.manager)).all())


def job_states(engine) -> Counter[str]:
    with engine.connect() as c:
        return Counter(state for (state,) in c.execute(select(jobs.c.state)))


def test_one_pass_decides_a_burst_in_arrival_order_exactly_as_round_robin_goes(engine):
    crm, clock = FakeCrm(batch=250), Clock()
    ids = [str(i) for i in range(1, 301)]
    seed_leads(crm, ids)
    post(engine, clock, *[add_lead_event(i) for i in ids])
    worker = worker_for(engine, crm, clock, team_policy())
    assert worker.process() == 300  # one pass, one batch
    cycle = ["ivanova", "petrov", "sidorov"]
    assert owners(engine) == {lead: cycle[n % 3] for n, lead in enumerate(ids)}
    decisions = read_audit(engine, kinds=("decision",))
    assert [d.lead_id for d in decisions] == ids  # one audit row per decision, in order
    with engine.connect() as c:
        kinds = [k for (k,) in c.execute(select(outbox.c.kind).order_by(outbox.c.id))]
        seen = c.execute(select(func.count()).select_from(lead_seen)).scalar()
    assert kinds == ["responsible", "task", "note"] * 300 and seen == 300
    assert job_states(engine) == {"done": 300}


def test_a_weighted_pool_split_in_batches_matches_one_decision_at_a_time(engine):
    crm, clock, policy = FakeCrm(batch=250), Clock(), team_policy("weighted")
    ids = [str(i) for i in range(1, 601)]
    seed_leads(crm, ids)
    post(engine, clock, *[add_lead_event(i) for i in ids])
    worker = worker_for(engine, crm, clock, policy, claim_batch=137)  # passes of uneven size
    while worker.run_once():
        pass
    _, alone = run(policy, 600, at=clock.now, step_minutes=0)
    assert Counter(owners(engine).values()) == alone.pool("sales").counts


def test_echoes_a_persons_change_and_a_stage_move_in_one_batch_are_told_apart(engine):
    crm, clock, policy = FakeCrm(batch=250), Clock(), team_policy()
    seed_leads(crm, ["1", "2", "3", "4"])
    post(engine, clock, *[add_lead_event(i) for i in ["1", "2", "3"]])
    worker = worker_for(engine, crm, clock, policy)
    worker.run_once()  # 1 → ivanova, 2 → petrov, 3 → sidorov; the writes are sent
    crm.leads["3"] = replace(crm.leads["3"], stage_id="won")  # where its update event says it is
    post(
        engine,
        clock,
        update_event("1", 101),  # our own write coming back
        update_event("2", 103),  # a person gives lead 2 to sidorov
        update_event("2", 103, n=1),  # ... and its update_lead twin: nothing new any more
        update_event("3", 103, stage="won"),  # a stage move
        add_lead_event("4"),  # a new lead in the same batch
        update_event("4", 0),  # an update of lead 4 before our write to it was confirmed
        update_event("9", 101),  # a lead we never routed
    )
    assert worker.process() == 7
    kinds = {lead: [e.kind for e in read_audit(engine, lead_id=lead)] for lead in "12349"}
    assert kinds["1"][-2:] == ["received", "echo"]
    assert kinds["2"][-4:] == ["received", "received", "override", "echo"]
    assert kinds["3"][-2:] == ["received", "stage_changed"]  # the move is read and run after the batch
    assert kinds["4"] == ["received", "received", "decision", "stale"]  # from before our pending write
    assert kinds["9"] == ["received", "ignored"]
    with engine.connect() as c:
        seen = dict(c.execute(select(lead_seen.c.lead_id, lead_seen.c.responsible)).all())
        stages = dict(c.execute(select(lead_seen.c.lead_id, lead_seen.c.stage)).all())
        stage_jobs = c.execute(select(func.count()).where(jobs.c.kind == "stage")).scalar()
    assert seen["2"] == 103 and seen["4"] == 101  # the override is remembered; lead 4 went round
    assert stages["3"] == "won" and stage_jobs == 0
    assert Counter(owners(engine).values()) == {"ivanova": 2, "petrov": 1, "sidorov": 1}
    worker.run_once()
    assert [e.kind for e in read_audit(engine, lead_id="3")].count("stage_changed") == 1


def test_a_lease_lost_mid_batch_rolls_the_batch_back_and_each_job_runs_alone(engine):
    clock, policy = Clock(), team_policy()
    ids = [str(i) for i in range(1, 11)]

    class Thief(FakeCrm):
        """Reading lead 5 takes so long that another worker takes its job over."""

        def fetch_lead(self, lead_id):
            if lead_id == "5":
                with engine.begin() as c:
                    c.execute(update(jobs).where(jobs.c.lead_id == "5").values(lease_owner="thief"))
            return super().fetch_lead(lead_id)

    crm = Thief(batch=250)
    seed_leads(crm, ids)
    post(engine, clock, *[add_lead_event(i) for i in ids])
    worker_for(engine, crm, clock, policy).run_once()
    decided = owners(engine)
    assert sorted(decided, key=int) == [i for i in ids if i != "5"]  # the thief's job is not done twice
    cycle = ["ivanova", "petrov", "sidorov"]
    assert [decided[i] for i in sorted(decided, key=int)] == [cycle[n % 3] for n in range(9)]
    assert len(read_audit(engine, kinds=("decision",))) == 9
    assert crm.fetches == 10  # the leads read for the batch were handed to the one-by-one handlers
    assert job_states(engine) == {"done": 9, "running": 1}


def test_a_lead_whose_decision_fails_is_retried_alone_and_the_rest_is_stored(engine, monkeypatch):
    crm, clock, policy = FakeCrm(batch=250), Clock(), team_policy()
    ids = [str(i) for i in range(1, 6)]
    seed_leads(crm, ids)
    post(engine, clock, *[add_lead_event(i) for i in ids])
    import core.lifecycle as batch  # the lifecycle decides, in the batch as anywhere

    real = batch.decide

    def decide(lead, *args):
        if lead.id == "3":
            raise RuntimeError("a bug in one rule")
        return real(lead, *args)

    monkeypatch.setattr(batch, "decide", decide)
    worker_for(engine, crm, clock, policy).run_once()
    assert sorted(owners(engine)) == ["1", "2", "4", "5"]
    assert [e.kind for e in read_audit(engine, lead_id="3")] == ["received", "job_retry"]
    assert job_states(engine) == {"done": 4, "pending": 1}
    monkeypatch.setattr(batch, "decide", real)
    clock.advance(minutes=5)
    worker_for(engine, crm, clock, policy).run_once()
    assert Counter(owners(engine).values()) == {"ivanova": 2, "petrov": 2, "sidorov": 1}


def test_the_running_loop_sends_every_write_from_its_outbox_thread(engine):
    crm, clock, policy = FakeCrm(batch=250), Clock(), team_policy()
    ids = [str(i) for i in range(1, 101)]
    seed_leads(crm, ids)
    post(engine, clock, *[add_lead_event(i) for i in ids])
    worker = worker_for(engine, crm, clock, policy)
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(stop,))
    loop.start()
    try:
        for _ in range(300):
            with engine.connect() as c:
                sent = c.execute(select(func.count()).where(outbox.c.state == "sent")).scalar()
            if sent == 300:
                break
            stop.wait(0.1)
    finally:
        stop.set()
        loop.join(timeout=30)
    assert not loop.is_alive()
    assert sent == 300
    assert Counter(w.kind for w in crm.writes) == {
        k: 100 for k in (WriteKind.RESPONSIBLE, WriteKind.TASK, WriteKind.NOTE)
    }


def test_a_part_filled_batch_waits_only_when_asked(engine):
    crm, clock, policy = FakeCrm(batch=250), Clock(), team_policy()
    seed_leads(crm, ["1", "2", "3"])
    post(engine, clock, add_lead_event("1"), add_lead_event("2"))
    worker = worker_for(engine, crm, clock, policy)
    worker.process()
    assert not worker.flusher._filling()  # no new lead due or in hand: nothing will fill the batch
    assert worker.flusher.flush(partial=False) == 0 and crm.writes == []
    post(engine, clock, add_lead_event("3"))
    assert worker.flusher._filling()
    assert worker.flusher.flush() == 6  # responsible writes first, then the tasks and notes
    assert [w.kind for w in crm.writes] == [WriteKind.RESPONSIBLE] * 2 + [WriteKind.TASK] * 2 + [
        WriteKind.NOTE
    ] * 2


def test_a_group_commit_stores_each_key_once_in_order(engine):
    clock = Clock()
    first = [add_lead_event("1"), add_lead_event("2"), add_lead_event("1")]
    second = [add_lead_event("2"), add_lead_event("3")]
    results = store_groups(engine, [first, second], clock())
    assert results == [[True, True, False], [False, True]]
    assert store_groups(
        engine, [[add_lead_event("3"), IncomingEvent("amocrm", "k", "x", None)]], clock()
    ) == [[False, True]]
    with engine.connect() as c:
        queued = [lead for (lead,) in c.execute(select(jobs.c.lead_id).order_by(jobs.c.id))]
    assert queued == ["1", "2", "3"]
    assert [e.kind for e in read_audit(engine)] == [
        "received",
        "received",
        "duplicate",
        "duplicate",
        "received",
        "duplicate",
        "received",
    ]
