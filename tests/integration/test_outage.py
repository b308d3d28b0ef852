"""A bad day loses nothing: a CRM outage of an hour, on a clock the test moves, loses no lead.

The story: a quiet hour (10 leads, one every 5 minutes) arrives while the CRM answers nothing.
The worker keeps working every 30 seconds of the hour; nothing is marked failed or dead, the
outage is recorded once and shows what waits; the moment the CRM answers, everything runs.
"""

from __future__ import annotations

from sqlalchemy import select

from adapters.storage.audit import read_audit
from adapters.storage.engine import reading
from adapters.storage.outage import outages
from adapters.storage.outbox import list_dead
from adapters.storage.tables import jobs
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, make_worker, post, seed_leads, team_policy

LEADS = [str(n) for n in range(1, 11)]


def job_states(engine) -> dict[str, int]:
    with reading(engine) as connection:
        rows = connection.execute(select(jobs.c.state)).all()
    states: dict[str, int] = {}
    for row in rows:
        states[row.state] = states.get(row.state, 0) + 1
    return states


def an_hour_of_outage(engine, crm: FakeCrm, clock: Clock, worker) -> None:
    """Leads arrive every 5 minutes; the worker passes every 30 seconds; an hour goes by."""
    arrivals = {n * 10: lead_id for n, lead_id in enumerate(LEADS)}  # pass number → lead
    for tick in range(120):
        if tick in arrivals:
            seed_leads(crm, [arrivals[tick]], at=clock())
            post(engine, clock, add_lead_event(arrivals[tick]))
        worker.run_once()
        clock.advance(seconds=30)


def test_an_hour_long_crm_outage_loses_no_lead_and_everything_runs_once_it_answers(engine):
    crm, clock = FakeCrm(down=True), Clock()
    worker = make_worker(engine, crm, clock, team_policy())
    started = clock()
    an_hour_of_outage(engine, crm, clock, worker)

    assert job_states(engine) == {"pending": 10}  # all ten wait; none failed
    assert read_audit(engine, kinds=("job_failed",)) == []
    down = read_audit(engine, kinds=("crm_down",))
    assert len(down) == 1 and down[0].at == started
    with reading(engine) as connection:
        [outage] = outages(connection)
    assert (outage.crm, outage.since, outage.jobs) == ("amocrm", started, 10)

    crm.down = False
    clock.advance(seconds=1)
    worker.run_once()  # the first answer ends the outage: everything waiting is due at once
    worker.run_once()
    owners = [crm.owner_of(i) for i in LEADS]
    # The lead whose retry found the CRM back is decided first; the rest follow in arrival order.
    assert sorted(owners.count(user) for user in (101, 102, 103)) == [3, 3, 4]
    assert job_states(engine) == {"done": 10}
    back = read_audit(engine, kinds=("crm_back",))
    assert len(back) == 1 and back[0].detail["seconds"] >= 3600
    with reading(engine) as connection:
        assert outages(connection) == []


def test_writes_refused_by_an_outage_wait_for_the_crm_and_are_never_dead_letters(engine):
    crm, clock = FakeCrm(), Clock()
    worker = make_worker(engine, crm, clock, team_policy())
    seed_leads(crm, ["1", "2"])
    post(engine, clock, add_lead_event("1"), add_lead_event("2"))
    worker.process()  # decided while the CRM answered reads…
    crm.down = True  # …and then it went down before the writes went out
    for _ in range(120):
        worker.flush()
        clock.advance(seconds=30)
    assert list_dead(engine) == []
    assert crm.owner_of("1") is None and len(read_audit(engine, kinds=("crm_down",))) == 1

    crm.down = False
    clock.advance(seconds=1)
    worker.run_once()  # nothing of its own to do, but the flush answers and releases the rest
    worker.run_once()
    assert (crm.owner_of("1"), crm.owner_of("2")) == (101, 102)
    assert list_dead(engine) == []


def test_the_reconciler_outlives_any_error_and_is_recreated_if_its_job_is_gone(engine, monkeypatch):
    crm, clock = FakeCrm(), Clock()
    worker = make_worker(engine, crm, clock, team_policy())
    worker.keep_reconciling(clock())
    worker.run_once()  # its first pass draws the starting line

    def broken(since):
        raise ValueError("a bug in the listing")

    monkeypatch.setattr(crm, "changed_since", broken)
    for _ in range(30):  # ten times past max_job_attempts, at five-minute intervals
        clock.advance(minutes=5)
        worker.run_once()
    assert read_audit(engine, kinds=("job_failed",)) == []
    assert job_states(engine).get("failed", 0) == 0

    with engine.begin() as connection:  # an operator deletes it, or an old version failed it
        connection.execute(jobs.delete().where(jobs.c.kind == "reconcile"))
    clock.advance(seconds=worker.options.reconcile_check)
    worker.keep_reconciling(clock())
    with reading(engine) as connection:
        kinds = connection.execute(select(jobs.c.kind).where(jobs.c.state == "pending")).scalars().all()
    assert kinds == ["reconcile"]


def test_a_crm_that_refuses_our_credentials_keeps_the_leads_waiting_not_failed(engine, monkeypatch):
    from adapters.errors import AuthError

    crm, clock = FakeCrm(), Clock()
    worker = make_worker(engine, crm, clock, team_policy())
    seed_leads(crm, ["1"])
    post(engine, clock, add_lead_event("1"))

    def revoked(lead_id):
        raise AuthError("401 token revoked")

    monkeypatch.setattr(crm, "fetch_lead", revoked)
    for _ in range(60):
        worker.run_once()
        clock.advance(minutes=1)
    assert job_states(engine) == {"pending": 1}
    monkeypatch.undo()
    clock.advance(minutes=1)
    worker.run_once()
    worker.run_once()
    assert crm.owner_of("1") == 101
