"""Workers killed between the CRM's answer and our commit: no manager gets the same task twice."""

from __future__ import annotations

import pytest

from tests.fakes.crash_loop import crash_loop


@pytest.mark.slow
@pytest.mark.wall_clock_across_processes  # the workers' clock is NOON_UTC + (their time.time() - epoch)
def test_workers_killed_after_the_crm_took_their_tasks_never_send_a_task_twice(engine, db_url, tmp_path):
    figures = crash_loop(engine, db_url, tmp_path, leads=300, rounds=6)
    assert figures.kills >= 6, figures.line()
    assert figures.duplicate_tasks == 0, figures.line()
    assert figures.leads_with_two_owners == 0, figures.line()
    assert figures.leads_without_task == 0, figures.line()
    assert figures.writes_not_sent == 0, figures.line()


@pytest.mark.slow
@pytest.mark.wall_clock_across_processes
def test_without_looking_in_the_crm_the_same_crashes_do_send_tasks_twice(sqlite_url, tmp_path):
    """The control: the same run with a worker that cannot look gives duplicates (so the test above
    can fail)."""
    from adapters.storage.engine import make_engine
    from adapters.storage.migrate import upgrade_database

    engine = make_engine(sqlite_url)
    upgrade_database(engine)
    figures = crash_loop(engine, sqlite_url, tmp_path, leads=300, rounds=6, blind=True)
    engine.dispose()
    assert figures.duplicate_tasks > 0, figures.line()
    assert figures.leads_with_two_owners == 0, figures.line()
