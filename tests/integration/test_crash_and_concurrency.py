"""Worker processes killed at random, and several at once: nothing lost, nothing decided twice."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

from adapters.storage.intake import store_events
from adapters.storage.tables import assignments, jobs, outbox
from tests.builders import run
from tests.fakes.run_worker import NOON_UTC
from tests.fakes.shared_crm import SharedFakeCrm
from tests.integration.helpers import add_lead_event, team_policy

ROOT = Path(__file__).resolve().parents[2]
USER_OF = {"ivanova": 101, "petrov": 102, "sidorov": 103}


def spawn(db_url: str, crm_path: Path, name: str, epoch: float, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tests.fakes.run_worker",
        db_url,
        str(crm_path),
        name,
        "--epoch",
        str(epoch),
        *extra,
    ]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def seed(engine, crm: SharedFakeCrm, count: int) -> list[str]:
    ids = [str(i) for i in range(1, count + 1)]
    crm.add_leads(ids)
    store_events(engine, [add_lead_event(i) for i in ids], NOON_UTC)
    return ids


def check_invariants(engine, crm: SharedFakeCrm, ids: list[str]) -> Counter[str]:
    with engine.connect() as c:
        rows = c.execute(select(assignments.c.lead_id, assignments.c.manager)).all()
        job_states = Counter(s for (s,) in c.execute(select(jobs.c.state)))
        write_states = Counter(s for (s,) in c.execute(select(outbox.c.state)))
        if engine.dialect.name == "sqlite":
            assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    decided = Counter(lead for lead, _ in rows)
    assert sorted(decided) == sorted(ids), "every lead decided"
    assert max(decided.values()) == 1, "no lead decided twice"
    assert job_states == {"done": len(ids)}
    assert write_states == {"sent": 3 * len(ids)}
    owners = crm.owners_written()
    assert all(len(users) == 1 for users in owners.values()), "a lead was given two different owners"
    now = crm.responsible()
    manager_of = dict(rows)
    assert all(now[lead] == USER_OF[manager_of[lead]] for lead in ids)
    return Counter(manager_of.values())


@pytest.mark.slow
@pytest.mark.wall_clock_across_processes  # the workers' clock is NOON_UTC + (their time.time() - epoch)
def test_workers_killed_at_random_points_lose_nothing_and_never_give_two_owners(engine, db_url, tmp_path):
    crm = SharedFakeCrm(str(tmp_path / "crm.db"))
    ids = seed(engine, crm, 1000)
    rng = random.Random(20261124)
    epoch = time.time()
    kills = 0
    while kills < 12:
        # Half the workers die inside their first or second CRM write — right after the decision
        # was committed and before the CRM heard of it; the others are shot at a random moment.
        extra = ["--kill-on-write", str(rng.randint(1, 2))] if kills % 2 == 0 else []
        worker = spawn(db_url, tmp_path / "crm.db", f"w{kills}", epoch, *extra)
        try:
            worker.wait(timeout=rng.uniform(1.0, 2.5))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        assert worker.returncode in (-9, 0), worker.stderr.read().decode() if worker.stderr else ""
        kills += worker.returncode == -9
    survivor = spawn(db_url, tmp_path / "crm.db", "survivor", epoch, "--idle", "4")
    assert survivor.wait(timeout=240) == 0, survivor.stderr.read().decode() if survivor.stderr else ""
    check_invariants(engine, crm, ids)


@pytest.mark.slow
@pytest.mark.wall_clock_across_processes
def test_concurrent_workers_split_a_weighted_pool_exactly_as_one_worker_would(engine, db_url, tmp_path):
    crm = SharedFakeCrm(str(tmp_path / "crm.db"))
    ids = seed(engine, crm, 2000)
    epoch = time.time()
    count = 4 if engine.dialect.name == "postgresql" else 2
    workers = [spawn(db_url, tmp_path / "crm.db", f"w{i}", epoch, "--lease", "30") for i in range(count)]
    for worker in workers:
        assert worker.wait(timeout=300) == 0, worker.stderr.read().decode() if worker.stderr else ""
    counts = check_invariants(engine, crm, ids)
    _, alone = run(team_policy("weighted"), 2000, at=NOON_UTC, step_minutes=0)
    assert (
        dict(counts) == dict(alone.pool("sales").counts) == {"ivanova": 1000, "petrov": 667, "sidorov": 333}
    )
