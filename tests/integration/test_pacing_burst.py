"""Bursts at the rate limit's edge: the real workers and clients against emulators that count
requests as the CRMs do (on arrival, behind a jittery network) — not one 429 or 503.

Each worker has its own engine and its own CRM client, as separate processes would: what they
share is the database (the rate limit's row), on SQLite and on PostgreSQL. The batches are
small (5 leads) so that few leads make many requests at the edge: amoCRM at its own 7 a second
(60 leads, about 50 requests), Bitrix24 scaled up to 20 a second (150 leads, about 100 requests
past its bucket of 50). The 10,000-lead figures at the real limits are in bench/
(docs/benchmarks.md, "Pacing at the rate limit's edge").
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.amocrm.factory import build_client as amocrm_client
from adapters.bitrix24.factory import build_client as bitrix24_client
from adapters.ratelimit import SharedRateLimiter
from adapters.storage.engine import make_engine
from adapters.storage.intake import store_events
from sandbox.amocrm import AmoEmulator
from sandbox.bitrix24.emulator import Bitrix24Emulator
from tests.integration.helpers import add_lead_event
from webhook_app.bootstrap import build_services, build_worker
from webhook_app.clock import utc_now
from webhook_app.pipeline.worker import Worker, WorkerOptions
from webhook_app.settings import Settings

# 20 ms of network jitter: the emulator runs in this process, beside the workers, so on a busy
# machine the threads that serve it add delays of their own on top (the gate's margin is 150 ms;
# 30 ms here met a 429 now and then on the shared 2-core box). The old gate still meets 429s.
RATE, JITTER, BATCH = 20, 0.02, 5
AMO_RATE = 7  # amoCRM's own: at 20 a second the emulator's threads, in this process, lag too much
AMO_USERS = (504141, 504142, 504143)
B24_USERS = (101, 102, 103)
TEAM = """
timezone: Europe/Moscow
managers:
%(managers)s
pools:
  sales: {members: [%(members)s], strategy: round_robin}
rules:
  - {name: default, pool: sales}
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
"""


def config(path: Path, crm: str, users: tuple[int, ...]) -> Path:
    managers = "\n".join(f"  m{u}: {{crm_user_id: {u}}}" for u in users)
    members = ", ".join(f"m{u}" for u in users)
    path.write_text(f"crm: {crm}\n" + TEAM % {"managers": managers, "members": members}, encoding="utf-8")
    return path


@contextmanager
def running(workers: list[Worker]) -> Iterator[None]:
    """The workers' own loops (claim, decide, and a thread sending the outbox), until the block ends."""
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def wait_until(done: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the burst was not routed in time"
        time.sleep(0.2)


def options() -> WorkerOptions:
    return WorkerOptions(claim_batch=BATCH, read_batch=BATCH, lease=timedelta(minutes=5), idle_sleep=0.05)


# -- amoCRM: more than 20 arriving within any second → 429 ---------------------------------------------


def amo_worker(url: str, token: str, db_url: str, config_path: Path, name: str) -> Worker:
    """One worker with its own engine and amoCRM client, as a process of its own has them."""
    section = {"type": "amocrm", "base_url": url, "batch_size": BATCH, "rate_limit_per_second": AMO_RATE}
    client = amocrm_client(
        crm=section, secrets={"amocrm_token": token}, engine=make_engine(db_url), read_batch=BATCH
    )
    settings = Settings(config=config_path, database_url=db_url)  # type: ignore[arg-type]
    return build_worker(build_services(settings, crm=client), name, options())


def amo_workers(emu: AmoEmulator, db_url: str, tmp: Path, count: int, old_gate: bool) -> list[Worker]:
    crm = f'{{type: amocrm, base_url: "{emu.url}", batch_size: {BATCH}, rate_limit_per_second: {AMO_RATE}}}'
    path = config(tmp / "config.yaml", crm, AMO_USERS)
    workers = [amo_worker(emu.url, emu.admin_token(), db_url, path, f"w{n}") for n in range(count)]
    if old_gate:  # calls spaced exactly 1/rate apart, as the gate sent them before issue 19
        for worker in workers:
            gate = worker.ctx.crm.http.gate  # type: ignore[attr-defined]
            gate.limiter = SharedRateLimiter(gate.engine, gate.name, AMO_RATE, burst=1)
    return workers


def amo_burst(db_url: str, tmp: Path, workers: int, leads: int, old_gate: bool = False) -> AmoEmulator:
    """The burst against the emulator, which runs in this process. The workers run in processes of
    their own, as in production: threads beside the emulator would hold this interpreter while its
    server thread waits to count a request, bunching arrivals the way no network does (on a loaded
    2-core box that alone met a 429 now and then). The old gate needs its limiter swapped, so its
    workers stay threads here: more bunching only helps it meet the 429s it is there to show."""
    with AmoEmulator(rate=AMO_RATE, jitter=JITTER, hook_threads=1) as emu:
        team = amo_workers(emu, db_url, tmp, 1 if not old_gate else workers, old_gate)
        created = [lead.id for lead in emu.create_leads(leads)]
        events = [add_lead_event(str(i)) for i in created]
        store_events(team[0].ctx.engine, events, utc_now())
        account = emu.account

        def routed() -> bool:
            with account.lock:
                noted = {n["entity_id"] for n in account.notes}
                return all(account.leads[i].responsible_user_id in AMO_USERS and i in noted for i in created)

        if old_gate:
            with running(team):
                wait_until(routed)
        else:
            with worker_processes(emu, db_url, tmp / "config.yaml", workers):
                wait_until(routed)
    return emu


@contextmanager
def worker_processes(emu: AmoEmulator, db_url: str, config: Path, count: int) -> Iterator[None]:
    """`count` worker processes (tests/fakes/pacing_worker.py) until the block ends."""
    command = [sys.executable, "-m", "tests.fakes.pacing_worker", str(config), db_url, emu.url]
    command += [emu.admin_token()]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    processes = [subprocess.Popen([*command, f"w{n}"], cwd=root, env=env) for n in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_an_amocrm_burst_at_the_edge_meets_no_429(db_url, tmp_path, workers):
    emu = amo_burst(db_url, tmp_path, workers, leads=60)
    statuses = collections.Counter(r.status for r in emu.log)
    assert statuses[429] == 0 and emu.limiter.limited == 0 and statuses[403] == 0
    assert len(emu.log) >= 48  # 12 reads and 36 writes of 5, 7 seconds at the limit
    owners = collections.defaultdict(set)
    for entry in emu.requests("PATCH", "/api/v4/leads"):
        for item in entry.body:
            owners[item["id"]].add(item["responsible_user_id"])
    assert len(owners) == 60 and all(len(users) == 1 for users in owners.values())
    tasks = collections.Counter(t["entity_id"] for t in emu.account.tasks)
    assert len(tasks) == 60 and set(tasks.values()) == {1}  # one task each, none twice


def test_the_emulator_catches_calls_spaced_exactly_at_the_limit(sqlite_url, tmp_path):
    """With the gate as it was (calls exactly 1/7 s apart) the jitter lands eight inside one second:
    the emulator is strict enough to catch the edge."""
    emu = amo_burst(sqlite_url, tmp_path, workers=2, leads=60, old_gate=True)
    assert emu.limiter.limited > 0


# -- Bitrix24: a leaky bucket of 50 draining 20 a second → 503 QUERY_LIMIT_EXCEEDED ------------------


def b24_workers(emu: Bitrix24Emulator, db_url: str, tmp_path: Path, count: int) -> list[Worker]:
    crm = (
        f'{{type: bitrix24, base_url: "{emu.url}", domain: b24.example.ru, entity: lead,'
        f" rate_limit_per_second: {RATE}, burst: 50, batch_size: {BATCH}}}"
    )
    settings = Settings(config=config(tmp_path / "config.yaml", crm, B24_USERS), database_url=db_url)  # type: ignore[arg-type]
    section = {"type": "bitrix24", "base_url": emu.url, "entity": "lead", "rate_limit_per_second": RATE}
    section |= {"burst": 50, "batch_size": BATCH}
    workers = []
    for n in range(count):
        client = bitrix24_client(
            crm=section, secrets={"bitrix24_webhook_url": emu.add_webhook()}, engine=make_engine(db_url)
        )
        workers.append(build_worker(build_services(settings, crm=client), f"w{n}", options()))
    return workers


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_bitrix24_burst_at_the_edge_meets_no_503(db_url, tmp_path, workers):
    with Bitrix24Emulator(rate=RATE, burst=50, jitter=JITTER) as emu:
        for uid in B24_USERS:
            emu.add_user(uid, f"Менеджер {uid}")
        team = b24_workers(emu, db_url, tmp_path, workers)
        created = [emu.create("lead", {"TITLE": f"Заявка {n}"}) for n in range(150)]
        store_events(
            team[0].ctx.engine, [add_lead_event(f"lead:{i}", "bitrix24") for i in created], utc_now()
        )
        portal = emu.portal

        def routed() -> bool:
            with portal.lock:
                commented = {str(c.get("ENTITY_ID")) for c in portal.comments}
                leads = portal.records["lead"]
                return all(
                    int(leads[i]["ASSIGNED_BY_ID"]) in B24_USERS and str(i) in commented for i in created
                )

        with running(team):
            wait_until(routed)
    assert [e for e in emu.log if e.status == 503] == []
    assert len(emu.log) >= 100  # well past the bucket's 50: the drain rate is what sets the pace
