"""Worker processes killed right after the CRM took their writes, before they recorded it: the run
behind `bench/crash_tasks.py` and `tests/integration/test_crash_tasks.py`."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from adapters.storage.intake import store_events
from adapters.storage.tables import assignments, outbox
from tests.fakes.run_worker import NOON_UTC
from tests.fakes.shared_crm import SharedFakeCrm
from tests.integration.helpers import add_lead_event

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CrashFigures:
    """What a crash run left behind."""

    leads: int
    kills: int
    duplicate_tasks: int  # tasks beyond the first, over every lead
    leads_with_two_owners: int
    leads_without_task: int
    writes_not_sent: int

    def line(self) -> str:
        """One line for the docs."""
        return (
            f"{self.leads} leads, {self.kills} kills: {self.duplicate_tasks} duplicate tasks, "
            f"{self.leads_with_two_owners} leads with two owners, {self.leads_without_task} without a task, "
            f"{self.writes_not_sent} writes not sent"
        )


def _spawn(db_url: str, crm: Path, name: str, epoch: float, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.fakes.run_worker", db_url, str(crm), name, "--epoch", str(epoch)]
    return subprocess.Popen([*command, *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def crash_loop(
    engine: Engine,
    db_url: str,
    workdir: Path,
    *,
    leads: int,
    rounds: int,
    blind: bool = False,
    seed: int = 19,
) -> CrashFigures:
    """`leads` new leads; `rounds` times two workers at once, each killed (SIGKILL) right after the
    CRM took one of its first write calls; then one worker drains the rest."""
    crm_path = workdir / "crm.db"
    crm = SharedFakeCrm(str(crm_path))
    ids = [str(i) for i in range(1, leads + 1)]
    crm.add_leads(ids)
    store_events(engine, [add_lead_event(i) for i in ids], NOON_UTC)
    rng, epoch, kills = random.Random(seed), time.time(), 0
    more = ["--blind"] if blind else []
    for round_ in range(rounds):
        # One worker dies right after its second write call (the first pass's tasks: the CRM has
        # them, our record of it never commits), the other after a random one of its first six.
        after = [2, rng.randint(1, 6)]
        workers = [
            _spawn(db_url, crm_path, f"w{round_}.{n}", epoch, "--kill-after-write", str(k), *more)
            for n, k in enumerate(after)
        ]
        for worker in workers:
            try:
                worker.wait(timeout=120)  # each dies by itself (or ends, when no work is left)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            if worker.returncode not in (-9, 0):
                raise RuntimeError(worker.stderr.read().decode() if worker.stderr else "worker failed")
            kills += worker.returncode == -9
    survivor = _spawn(db_url, crm_path, "survivor", epoch, "--idle", "4", *more)
    if survivor.wait(timeout=300) != 0:
        raise RuntimeError(survivor.stderr.read().decode() if survivor.stderr else "survivor failed")
    tasks = crm.tasks_per_lead()
    with engine.connect() as connection:
        unsent = connection.execute(select(outbox.c.id).where(outbox.c.state != "sent")).all()
        decided = {lead for (lead,) in connection.execute(select(assignments.c.lead_id))}
    assert decided == set(ids), "every lead decided"
    return CrashFigures(
        leads=leads,
        kills=kills,
        duplicate_tasks=sum(count - 1 for count in tasks.values() if count > 1),
        leads_with_two_owners=sum(len(users) > 1 for users in crm.owners_written().values()),
        leads_without_task=sum(1 for i in ids if tasks.get(i, 0) == 0),
        writes_not_sent=len(unsent),
    )
