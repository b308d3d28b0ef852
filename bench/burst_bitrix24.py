"""Bitrix24 burst benchmark: N leads created at once on an emulated portal enforcing its leaky bucket.

    PYTHONPATH=. .venv/bin/python bench/burst_bitrix24.py [--leads 10000] [--mode batched|per-call]
        [--rate 2] [--burst 50] [--speedup 1] [--workers 1] [--postgres postgresql://…]
        [--jitter 0] [--outage 0]
    PYTHONPATH=. .venv/bin/python bench/burst_bitrix24.py --pacing --postgres postgresql://…

The emulator (sandbox/bitrix24/emulator.py, 2 requests/s, bucket 50, 503 QUERY_LIMIT_EXCEEDED
beyond) POSTs one ONCRMLEADADD per lead to `leadrouter web` (gunicorn, a subprocess, SQLite);
an in-process worker with the real Bitrix24 client routes them: fetch, decide, responsible,
to-do, comment — and every responsible write echoes back as ONCRMLEADUPDATE, which is fetched
and recognised too. Modes:
  batched   fetches batched per claimed batch of 50 (the worker's prefetch), writes in `batch` of 50;
  per-call  today's worker: one fetch per job, and one call per write (batch_size 1).
Reported: time until every lead has its responsible, until every comment is written, until the
queue is empty; requests made (503s included); 503s; the rate-limit bound (requests − burst)/rate.
`--speedup k` multiplies the rate on both sides to try things quickly; the figures to quote use 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from adapters.bitrix24.factory import build_client
from bench.burst_amocrm_parts import pg_schema
from core.model import Lead
from core.ports import CrmWrite, WriteKind, WriteResult
from sandbox.bitrix24.emulator import Bitrix24Emulator
from webhook_app.bootstrap import build_services, build_worker
from webhook_app.pipeline.worker import WorkerOptions
from webhook_app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRET, TOKEN, DOMAIN = "bench-b24-secret", "bench-b24-app-token", "b24.example.ru"
USERS = [101, 102, 103, 104, 105]
CONFIG = """
timezone: Europe/Moscow
crm: {type: bitrix24, base_url: "%(url)s", domain: %(domain)s, entity: lead,
      rate_limit_per_second: %(rate)s, burst: %(burst)s, batch_size: %(batch)s}
managers:
%(managers)s
pools:
  sales: {members: [%(members)s], strategy: round_robin}
rules:
  - {name: default, pool: sales}
continuity: {enabled: true, within_days: 180}
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
"""


def config_text(url: str, rate: float, burst: int, batch: int) -> str:
    managers = "\n".join(f"  m{u}: {{crm_user_id: {u}, name: Менеджер {u}}}" for u in USERS)
    members = ", ".join(f"m{u}" for u in USERS)
    values = {"url": url, "domain": DOMAIN, "rate": rate, "burst": burst, "batch": batch}
    return CONFIG % (values | {"managers": managers, "members": members})


def start_web(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "webhook_app.cli.main", "web", "--port", str(port), "--workers", "1"]
    web = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return web
        except httpx.HTTPError:
            time.sleep(0.2)
    web.kill()
    raise SystemExit("leadrouter web did not start")


@dataclass(frozen=True)
class Setup:
    """How one burst runs: the portal's limits, our workers and database, the network, an outage."""

    leads: int
    mode: str = "batched"
    rate: float = 2.0
    burst: int = 50
    workers: int = 1
    postgres: str | None = None  # a server: the run gets a fresh schema on it; None: SQLite
    jitter: float = 0.0  # each request reaches the portal 0…jitter s after it was sent
    outage: float = 0.0  # the portal is down while the leads arrive and this long; times from its return
    timeout: float = 7200.0


def run(setup: Setup, workdir: Path) -> dict[str, float]:
    """One measured burst; returns the figures."""
    emulator = Bitrix24Emulator(domain=DOMAIN, rate=setup.rate, burst=setup.burst, jitter=setup.jitter)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    db_url = pg_schema(setup.postgres, schema) if setup.postgres else f"sqlite:///{workdir / 'b24.db'}"
    try:
        with emulator as emu:
            return _run(setup, emu, workdir, db_url)
    finally:
        if setup.postgres:
            pg_schema(setup.postgres, schema, drop=True)


def _run(setup: Setup, emu: Bitrix24Emulator, workdir: Path, db_url: str) -> dict[str, float]:
    batch = 50 if setup.mode == "batched" else 1
    config = workdir / "config.yaml"
    config.write_text(config_text(emu.url, setup.rate, setup.burst, batch), encoding="utf-8")
    webhook = emu.add_webhook()
    env = os.environ | {"PYTHONPATH": str(ROOT), "LEADROUTER_CONFIG": str(config)}
    env |= {"LEADROUTER_DATABASE_URL": db_url, "LEADROUTER_WEBHOOK_SECRET": SECRET}
    env |= {"LEADROUTER_BITRIX24_WEBHOOK_URL": webhook, "LEADROUTER_BITRIX24_APP_TOKEN": TOKEN}
    port = 18000 + os.getpid() % 1000
    web = start_web(env, port)
    try:
        emu.add_outgoing_webhook(
            f"http://127.0.0.1:{port}/hooks/bitrix24/{SECRET}", ["ONCRMLEADADD", "ONCRMLEADUPDATE"], TOKEN
        )
        settings = Settings(config=config, database_url=db_url, webhook_secret=SECRET)  # type: ignore[arg-type]
        section = {
            "type": "bitrix24",
            "base_url": emu.url,
            "entity": "lead",
            "rate_limit_per_second": setup.rate,
            "burst": setup.burst,
            "batch_size": batch,
        }
        workers = []
        for n in range(setup.workers):  # each with its own engine and client, as processes would be
            engine = _engine(db_url)
            client = build_client(crm=section, secrets={"bitrix24_webhook_url": webhook}, engine=engine)
            services = build_services(settings, crm=client if setup.mode == "batched" else OneByOne(client))
            options = WorkerOptions(claim_batch=50, lease=timedelta(minutes=10), idle_sleep=0.05)
            workers.append(build_worker(services, f"bench-{n}", options))
        return _measure(emu, workers, setup, _engine(db_url))
    finally:
        web.terminate()
        web.wait(timeout=20)


class OneByOne:
    """The client without its batched read: the worker then reads each lead with its own request."""

    def __init__(self, client: Any) -> None:
        self.client, self.name = client, client.name

    def batch_size(self, kind: WriteKind) -> int:
        return self.client.batch_size(kind)

    def fetch_lead(self, lead_id: str) -> Lead | None:
        return self.client.fetch_lead(lead_id)

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        return self.client.write(writes)


def _engine(url: str):  # the client shares the rate limiter and tokens through this database
    from adapters.storage.engine import make_engine

    return make_engine(url)


def _measure(emu: Bitrix24Emulator, workers: list[Any], setup: Setup, engine: Any) -> dict[str, float]:
    stop = threading.Event()
    threads = [threading.Thread(target=_loop, args=(w, stop), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    try:
        return _drain(emu, setup, engine)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def _loop(worker: Any, stop: threading.Event) -> None:
    """One worker: the in-process loop bench runs have always used (process, then flush)."""
    while not stop.is_set():
        if not worker.run_once():
            stop.wait(0.05)


def _drain(emu: Bitrix24Emulator, setup: Setup, engine: Any) -> dict[str, float]:
    leads = setup.leads
    emu.down = setup.outage > 0
    started = time.monotonic()
    for n in range(leads):
        phone = f"+7 9{n:09d}"
        emu.create(
            "lead", {"TITLE": f"Заявка #{n}", "PHONE": [{"VALUE": phone}], "EMAIL": [{"VALUE": f"c{n}@x.ru"}]}
        )
    created = time.monotonic() - started
    if setup.outage:  # every event delivered while the portal is down, then the outage lasts on
        emu.events.wait_idle(3600)
        time.sleep(max(0.0, setup.outage - (time.monotonic() - started)))
        with emu.portal.lock:
            emu.log.clear()  # the 502s of the outage are not the catch-up's
            emu.down = False
        started = time.monotonic()
    assigned = done = None
    deadline = started + setup.timeout
    while time.monotonic() < deadline:
        elapsed = time.monotonic() - started
        with emu.portal.lock:
            records = list(emu.portal.records["lead"].values())
            comments = len(emu.portal.comments)
        if assigned is None and all(int(r["ASSIGNED_BY_ID"]) in USERS for r in records):
            assigned = elapsed
        if done is None and comments >= leads:
            done = elapsed
        if done is not None and emu.events.wait_idle(0.5) and _queue_empty(engine):
            break
        time.sleep(0.2)
    quiet = time.monotonic() - started
    with emu.portal.lock:
        log = list(emu.log)
        records = list(emu.portal.records["lead"].values())
        commented = {str(c.get("ENTITY_ID")) for c in emu.portal.comments}
    limited = len([e for e in log if e.status == 503])
    lost = sum(not (int(r["ASSIGNED_BY_ID"]) in USERS and r["ID"] in commented) for r in records)
    return {
        "leads": leads,
        "created_s": created,
        "assigned_s": assigned if assigned is not None else float("nan"),
        "written_s": done if done is not None else float("nan"),
        "quiet_s": quiet,
        "requests": len(log),
        "limited_503": limited,
        "bound_s": max(0.0, (len(log) - limited - setup.burst) / setup.rate),
        "lost": lost,
        "two_owners": _two_owners(engine, records),
    }


def _queue_empty(engine: Any) -> bool:
    """No job due (timers and the periodic reconcile wait for later) and nothing left to write."""
    from sqlalchemy import func, select

    from adapters.storage.tables import jobs, outbox

    due = jobs.c.state.in_(["pending", "running"]) & (jobs.c.run_at <= datetime.now(UTC))
    with engine.connect() as connection:
        waiting = connection.execute(select(func.count()).select_from(jobs).where(due)).scalar_one()
        unsent = connection.execute(
            select(func.count()).select_from(outbox).where(outbox.c.state.in_(["pending", "sending"]))
        ).scalar_one()
    return not waiting and not unsent


def _two_owners(engine: Any, records: list[dict[str, Any]]) -> int:
    """Leads decided twice, or whose owner in the portal is not the one we decided."""
    from sqlalchemy import select

    from adapters.storage.tables import assignments

    with engine.connect() as connection:
        rows = connection.execute(
            select(assignments.c.lead_id, assignments.c.crm_user_id).where(assignments.c.purpose == "new")
        ).all()
    decided: dict[str, set[int]] = {}
    for lead_id, user in rows:
        decided.setdefault(str(lead_id), set()).add(int(user))
    owner = {f"lead:{r['ID']}": int(r["ASSIGNED_BY_ID"]) for r in records}
    return sum(len(users) > 1 or owner.get(lead_id) not in users for lead_id, users in decided.items())


def main() -> None:
    """Parse the options, run, print the figures (or, with --pacing, the matrix as a table)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--mode", choices=("batched", "per-call"), default="batched")
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--speedup", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=1, help="workers, each with its own engine and client")
    parser.add_argument("--postgres", help="run on this PostgreSQL server (a fresh schema) instead of SQLite")
    parser.add_argument("--jitter", type=float, default=0.0, help="network delay 0…s per request")
    parser.add_argument("--outage", type=float, default=0.0, help="seconds the portal is down at the start")
    parser.add_argument("--pacing", action="store_true", help="1, 2, 3 workers and a catch-up, as a table")
    parser.add_argument("--timeout", type=float, default=7200.0, help="give up on a run after this many s")
    args = parser.parse_args()
    # SIGTERM ends the run through its `finally`s: the web process stopped, the PostgreSQL schema dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rate = args.rate * args.speedup
    base = Setup(args.leads, args.mode, rate, args.burst, args.workers, args.postgres, args.jitter)
    base = replace(base, outage=args.outage, timeout=args.timeout)
    if args.pacing:
        pacing(replace(base, jitter=args.jitter or 0.05), args.outage or 60.0)
        return
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(base, Path(tmp))
    print(f"mode={args.mode} leads={args.leads} rate={rate:g}/s burst={args.burst} workers={args.workers}")
    for key, value in figures.items():
        print(f"  {key:12} {value:10.1f}" if isinstance(value, float) else f"  {key:12} {value:10d}")
    ratio = figures["quiet_s"] / figures["bound_s"] if figures["bound_s"] else float("nan")
    print(f"  quiet/bound  {ratio:10.2f}   requests/lead {figures['requests'] / args.leads:.3f}")


def pacing(base: Setup, outage: float) -> None:
    """1, 2 and 3 workers, then the catch-up after `outage` s down with 3; one Markdown row each."""
    print("| run | leads | 503 | requests | time to drain | bound | × bound | leads lost | two owners |")
    print("|" + "---|" * 9, flush=True)
    plan = [(f"{w} worker{'s' if w > 1 else ''}", replace(base, workers=w, outage=0.0)) for w in (1, 2, 3)]
    plan.append((f"catch-up after {outage:g} s down, 3 workers", replace(base, workers=3, outage=outage)))
    for name, setup in plan:
        with tempfile.TemporaryDirectory() as tmp:
            f = run(setup, Path(tmp))
        ratio = f["quiet_s"] / f["bound_s"] if f["bound_s"] else float("nan")
        print(
            f"| {name} | {setup.leads:,} | {f['limited_503']} | {f['requests']} | {f['quiet_s']:.1f} s"
            f" | {f['bound_s']:.1f} s | {ratio:.2f} | {f['lost']} | {f['two_owners']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
