"""Bitrix24 burst benchmark: N leads created at once on an emulated portal enforcing its leaky bucket.

    PYTHONPATH=. .venv/bin/python bench/burst_bitrix24.py [--leads 10000] [--mode batched|per-call]
        [--rate 2] [--burst 50] [--speedup 1]

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
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from adapters.bitrix24.factory import build_client
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


def run(leads: int, mode: str, rate: float, burst: int, workdir: Path) -> dict[str, float]:
    """One measured burst; returns the figures."""
    with Bitrix24Emulator(domain=DOMAIN, rate=rate, burst=burst) as emu:
        batch = 50 if mode == "batched" else 1
        config = workdir / "config.yaml"
        config.write_text(config_text(emu.url, rate, burst, batch), encoding="utf-8")
        db_url = f"sqlite:///{workdir / f'{mode}.db'}"
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
                "rate_limit_per_second": rate,
                "burst": burst,
                "batch_size": batch,
            }
            client = build_client(
                crm=section, secrets={"bitrix24_webhook_url": webhook}, engine=_engine(db_url)
            )
            crm = client if mode == "batched" else OneByOne(client)
            services = build_services(settings, crm=crm)
            options = WorkerOptions(claim_batch=50, lease=timedelta(minutes=10), idle_sleep=0.05)
            worker = build_worker(services, "bench", options)
            return _measure(emu, worker, leads, rate, burst)
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


def _measure(emu: Bitrix24Emulator, worker, leads: int, rate: float, burst: int) -> dict[str, float]:
    started = time.monotonic()
    for n in range(leads):
        phone = f"+7 9{n:09d}"
        emu.create(
            "lead", {"TITLE": f"Заявка #{n}", "PHONE": [{"VALUE": phone}], "EMAIL": [{"VALUE": f"c{n}@x.ru"}]}
        )
    created = time.monotonic() - started
    assigned = done = None
    while True:
        busy = worker.run_once()
        elapsed = time.monotonic() - started
        records = emu.portal.records["lead"].values()
        if assigned is None and all(int(r["ASSIGNED_BY_ID"]) in USERS for r in records):
            assigned = elapsed
        if done is None and len(emu.portal.comments) >= leads:
            done = elapsed
        if done is not None and not busy and emu.events.wait_idle(0.5) and not worker.run_once():
            break
        if not busy:
            time.sleep(0.05)
    quiet = time.monotonic() - started
    requests = len(emu.log)
    limited = len([e for e in emu.log if e.status == 503])
    return {
        "leads": leads,
        "created_s": created,
        "assigned_s": assigned or 0.0,
        "written_s": done or 0.0,
        "quiet_s": quiet,
        "requests": requests,
        "limited_503": limited,
        "bound_s": max(0.0, (requests - limited - burst) / rate),
    }


def main() -> None:
    """Parse the options, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--mode", choices=("batched", "per-call"), default="batched")
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--speedup", type=float, default=1.0)
    args = parser.parse_args()
    rate = args.rate * args.speedup
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args.leads, args.mode, rate, args.burst, Path(tmp))
    print(f"mode={args.mode} leads={args.leads} rate={rate:g}/s burst={args.burst}")
    for key, value in figures.items():
        print(f"  {key:12} {value:10.1f}" if isinstance(value, float) else f"  {key:12} {value:10d}")
    ratio = figures["quiet_s"] / figures["bound_s"] if figures["bound_s"] else float("nan")
    print(f"  quiet/bound  {ratio:10.2f}   requests/lead {figures['requests'] / args.leads:.3f}")


if __name__ == "__main__":
    main()
