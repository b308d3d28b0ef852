"""The admin page's reads on both databases: the queue split into work due now and timers set for
later, the next scheduled jobs, and everything stored about one lead for its story."""

from __future__ import annotations

from datetime import timedelta

from adapters.storage.engine import reading
from adapters.storage.queue import due_and_later, enqueue_many, job_row, scheduled_jobs
from adapters.storage.readmodel import lead_rows
from core.kinds import JobKind
from tests.builders import NOON


def test_due_work_and_timers_for_later_are_counted_apart_and_listed_soonest_first(engine):
    rows = [
        job_row(JobKind.LEAD, "amocrm", "1", {}, NOON - timedelta(minutes=1), NOON),  # due
        job_row(JobKind.EVENT, "amocrm", "2", {}, NOON, NOON),  # due this very moment
        job_row(JobKind.SLA, "amocrm", "3", {}, NOON + timedelta(minutes=15), NOON),  # later
        job_row(JobKind.RETURN, "amocrm", "4", {}, NOON + timedelta(days=3), NOON),  # later
        job_row(JobKind.LEAD, "amocrm", "5", {}, NOON + timedelta(hours=9), NOON),  # waits for a shift
    ]
    with engine.begin() as connection:
        enqueue_many(connection, rows)
    with reading(engine) as connection:
        assert due_and_later(connection, NOON) == (2, 3)
        later = scheduled_jobs(connection, NOON, limit=2)
    assert [(r.kind, r.lead_id) for r in later] == [("sla", "3"), ("lead", "5")]
    with reading(engine) as connection:
        assert due_and_later(connection, NOON + timedelta(days=4)) == (5, 0)


def test_nothing_stored_about_a_lead_is_an_empty_story(engine):
    with reading(engine) as connection:
        found = lead_rows(connection, "amocrm", "nobody")
    assert found.audit == [] and found.assignments == [] and found.writes == [] and found.life is None
