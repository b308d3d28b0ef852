"""What-if over the store on SQLite and PostgreSQL: inputs stored by the worker, read back in
chunks in decision order, replayed to the same owners; retention on both databases."""

from __future__ import annotations

from datetime import timedelta

from adapters.storage.inputs import read_history
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
from webhook_app.offline.whatif import run_whatif
from webhook_app.pipeline.decision_input import without_personal


def test_stored_decisions_replay_to_the_same_owners_when_read_in_small_chunks(engine, monkeypatch):
    crm, clock, policy = FakeCrm(), Clock(), team_policy("weighted")
    worker = make_worker(engine, crm, clock, policy)
    ids = [str(n) for n in range(1, 12)]
    seed_leads(crm, ids)
    for n, lead_id in enumerate(ids):
        post(engine, clock, add_lead_event(lead_id))
        if n % 3 == 2:  # some one by one, some in one pass
            worker.run_once()
            clock.advance(minutes=5)
    worker.run_once()
    monkeypatch.setattr("adapters.storage.inputs.READ_CHUNK", 2)  # keyset paging across chunks
    since, until = clock() - timedelta(days=1), clock() + timedelta(minutes=1)
    stored = list(read_history(engine, since, until))
    assert sorted(s.lead_id for s in stored) == sorted(ids)
    assert [s.decided_at for s in stored] == sorted(s.decided_at for s in stored)
    result = run_whatif(engine, policy, policy, since, until)
    assert result.leads == 11 and result.changed == 0, result.changes


def test_retention_purges_on_either_database(engine):
    from adapters.storage.inputs import purge

    crm, clock, policy = FakeCrm(), Clock(), team_policy()
    worker = make_worker(engine, crm, clock, policy)
    seed_leads(crm, ["1", "2"])
    post(engine, clock, add_lead_event("1"), add_lead_event("2"))
    worker.run_once()
    later = clock() + timedelta(days=10)
    done = purge(engine, later, inputs_before=clock(), personal_before=later, blank=without_personal)
    assert (done.inputs_deleted, done.inputs_blanked, done.webhooks_blanked) == (0, 2, 2)
    again = purge(engine, later, inputs_before=later, personal_before=later, blank=without_personal, chunk=1)
    assert (again.inputs_deleted, again.inputs_blanked, again.webhooks_blanked) == (2, 0, 0)


def test_retention_blanks_then_deletes_the_updates_told_on_either_database(engine):
    from dataclasses import replace

    from adapters.storage.history import read_events
    from adapters.storage.inputs import purge

    crm, clock, policy = FakeCrm(), Clock(), team_policy()
    worker = make_worker(engine, crm, clock, policy)
    seed_leads(crm, ["1"])
    crm.leads["1"] = replace(crm.leads["1"], name="Иван Петров", phone="+7 495 123-45-67")
    post(engine, clock, add_lead_event("1"))
    worker.run_once()
    clock.advance(minutes=5)
    post(engine, clock, update_event("1", 102, stage="elsewhere"))  # read from the CRM: the whole lead
    worker.run_once()
    period = (clock() - timedelta(days=1), clock())
    [told] = read_events(engine, *period)
    assert told.lead["name"] == "Иван Петров" and told.lead["responsible_user_id"] == 101  # as read
    later = clock() + timedelta(days=10)
    done = purge(
        engine,
        later,
        inputs_before=clock() - timedelta(days=1),
        personal_before=later,
        blank=without_personal,
    )
    assert (done.events_blanked, done.events_deleted) == (1, 0)
    [blanked] = read_events(engine, *period)
    assert blanked.lead["name"] == "" and blanked.lead["phone"] is None
    assert blanked.lead["responsible_user_id"] == 101  # what the replay reads stays
    again = purge(engine, later, inputs_before=later, personal_before=later, blank=without_personal)
    assert (again.events_blanked, again.events_deleted) == (0, 1)
    assert list(read_events(engine, *period)) == []
