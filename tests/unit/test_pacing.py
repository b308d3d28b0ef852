"""How much of the queue a worker pass takes: whole CRM reads in a burst, everything when quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.storage.queue import Job
from webhook_app.pipeline.pacing import Pacing

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PACING = Pacing(claim_batch=250, read_batch=125, hold=timedelta(seconds=1))


def jobs(kinds: str, age: float = 0.1) -> list[Job]:
    """'L' a new lead, 'e' an echo event (no read); created `age` seconds ago."""
    at = NOW - timedelta(seconds=age)
    return [
        Job(n, "lead" if k == "L" else "event", "amocrm", str(n), {}, 1, at, at) for n, k in enumerate(kinds)
    ]


def reads(job: Job) -> bool:
    return job.kind == "lead"


def test_a_lone_lead_in_a_quiet_hour_is_taken_at_once():
    assert PACING.cut(jobs("L"), NOW, reads) == (1, False)
    assert PACING.cut(jobs("eeLee"), NOW, reads) == (5, False)


def test_in_a_burst_a_part_filled_read_waits_and_the_jobs_before_it_go():
    due = jobs("ee" + "L" * 40 + "e")
    assert PACING.cut(due, NOW, reads) == (2, True)


def test_whole_reads_go_and_the_rest_of_the_burst_waits_at_the_head_of_the_queue():
    due = jobs("L" * 125 + "ee" + "L" * 60 + "e")
    assert PACING.cut(due, NOW, reads) == (127, True)  # 125 leads and the echoes before the 126th


def test_a_part_filled_read_waits_no_longer_than_the_hold():
    assert PACING.cut(jobs("L" * 40, age=1.5), NOW, reads) == (40, False)


def test_a_pass_takes_at_most_claim_batch_leads_and_says_more_are_coming():
    due = jobs("Le" * 300)
    take, burst = PACING.cut(due, NOW, reads)
    assert burst and sum(reads(j) for j in due[:take]) == 250 and due[take].kind == "lead"


def test_a_crm_that_reads_one_by_one_never_waits():
    one_by_one = Pacing(claim_batch=50)
    assert one_by_one.cut(jobs("L" * 40), NOW, reads) == (40, True)
