"""Pieces of bench/burst_amocrm.py: the config, a worker process, the client-only run, PostgreSQL."""

from __future__ import annotations

import socket
import time
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text

from sandbox.amocrm import AmoEmulator

CONFIG = """
timezone: Europe/Moscow
head_of_sales: head
crm: {type: amocrm, base_url: "%(url)s", account_id: %(account)s, batch_size: %(batch)s}
managers:
  ivanova: {crm_user_id: 504141}
  petrov: {crm_user_id: 504142}
  sidorov: {crm_user_id: 504143}
  head: {crm_user_id: 504100}
pools:
  sales: {members: [ivanova, petrov, sidorov], strategy: round_robin}
rules:
  - {name: default, pool: sales}
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
"""


def run_worker(claim_batch: int, read_batch: int) -> None:
    """One worker process: the real loop, with a client built like production's (options aside)."""
    from datetime import timedelta

    from adapters.amocrm.factory import build_client
    from webhook_app.bootstrap import build_services, build_worker, crm_arguments
    from webhook_app.pipeline.worker import WorkerOptions
    from webhook_app.web.server import run_worker_until_signalled

    services = build_services()
    arguments = crm_arguments(services.config.current, services.settings, services.engine)
    services.crm = build_client(**arguments, read_batch=read_batch)
    options = WorkerOptions(
        claim_batch=claim_batch, read_batch=read_batch, lease=timedelta(seconds=120), idle_sleep=0.2
    )
    run_worker_until_signalled(build_worker(services, options=options).run)


def client_only(emu: AmoEmulator, url: str, count: int, batch: int, read_batch: int) -> float:
    """The adapter alone: read every new lead (read-ahead over the known ids), write all three kinds;
    returns the seconds it took."""
    from datetime import UTC, datetime, timedelta

    from adapters.amocrm.factory import build_client
    from adapters.storage.engine import make_engine
    from adapters.storage.migrate import upgrade_database
    from core.ports import CrmWrite, WriteKind

    engine = make_engine(url)
    upgrade_database(engine)
    ids = [str(lead.id) for lead in emu.create_leads(count)]
    emu.log.clear()
    started, position = time.monotonic(), 0
    crm = {"type": "amocrm", "base_url": emu.url, "batch_size": batch}
    secrets = {"amocrm_token": emu.admin_token()}
    upcoming = lambda n: ids[position : position + n]  # noqa: E731  (the queue, as the worker's hint)
    client = build_client(crm=crm, secrets=secrets, engine=engine, read_batch=read_batch, upcoming=upcoming)
    due = datetime.now(UTC) + timedelta(minutes=15)
    for start in range(0, count, batch):
        chunk = ids[start : start + batch]
        for lead_id in chunk:
            position += 1
            assert client.fetch_lead(lead_id) is not None
        client.write([CrmWrite(WriteKind.RESPONSIBLE, i, user_id=504141) for i in chunk])
        client.write([CrmWrite(WriteKind.TASK, i, user_id=504141, text="Связаться", due=due) for i in chunk])
        client.write([CrmWrite(WriteKind.NOTE, i, text="leadrouter: default") for i in chunk])
    return time.monotonic() - started


def pg_schema(server: str, schema: str, *, drop: bool = False) -> str:
    """Create (or drop) a schema on the server; the database URL that uses it."""
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE" if drop else f"CREATE SCHEMA {schema}"))
    admin.dispose()
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options={quote(f'-csearch_path={schema}')}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("leadrouter did not start")
