"""The real worker, web app and Bitrix24 client in one process against the emulator: a lost event
found by the reconciler, a duplicated event, and a burst fetched in batches (the worker's prefetch)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from adapters.bitrix24.factory import build_client
from adapters.storage.audit import read_audit
from adapters.storage.tables import jobs
from sandbox.bitrix24.emulator import Bitrix24Emulator
from webhook_app.bootstrap import Services, build_services, build_worker
from webhook_app.pipeline.worker import Worker, WorkerOptions
from webhook_app.settings import Settings
from webhook_app.web.app import create_app

SECRET, TOKEN = "hook-secret-b24-worker", "app-token-b24-worker"
CONFIG = """
timezone: Europe/Moscow
crm: {type: bitrix24, base_url: "%s", domain: b24.example.ru, entity: lead, rate_limit_per_second: 50}
managers:
  ivanova: {crm_user_id: 101, name: Иванова}
  petrov: {crm_user_id: 102, name: Петров}
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
rules:
  - {name: default, pool: sales}
on_assign: {task: {text: "Позвонить", due_minutes: 15}, note: true}
"""


@dataclass
class Stack:
    emu: Bitrix24Emulator
    services: Services
    worker: Worker

    def settle(self, timeout: float = 20.0) -> None:
        """Run the worker until events stop arriving and nothing is left to do."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = self.worker.run_once()
            if not busy and self.emu.events.wait_idle(1.0) and not self.worker.run_once():
                return
        raise AssertionError("the worker did not settle")


@pytest.fixture
def stack(tmp_path, request) -> Iterator[Stack]:
    with Bitrix24Emulator(rate=50, burst=50) as emu:
        config = tmp_path / "config.yaml"
        config.write_text(CONFIG % emu.url, encoding="utf-8")
        db = f"sqlite:///{tmp_path / 'lr.db'}"
        settings = Settings(config=config, database_url=db, webhook_secret=SECRET, bitrix24_app_token=TOKEN)  # type: ignore[arg-type]
        from adapters.storage.engine import make_engine

        section = {"type": "bitrix24", "base_url": emu.url, "entity": "lead", "rate_limit_per_second": 50}
        client = build_client(
            crm=section, secrets={"bitrix24_webhook_url": emu.add_webhook()}, engine=make_engine(db)
        )
        services = build_services(settings, crm=client)
        server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        hook = f"http://127.0.0.1:{server.server_port}/hooks/bitrix24/{SECRET}"
        emu.add_outgoing_webhook(hook, ["ONCRMLEADADD", "ONCRMLEADUPDATE"], TOKEN)
        options = WorkerOptions(claim_batch=50, lease=timedelta(minutes=5))
        worker = build_worker(services, "w1", options)  # the worker batches reads itself (BatchReader)
        yield Stack(emu, services, worker)
        server.shutdown()


def kinds(stack: Stack, lead_id: str) -> list[str]:
    return [e.kind for e in read_audit(stack.services.engine, lead_id=lead_id)]


def test_a_lead_whose_event_was_lost_is_found_by_the_reconciler_and_routed(stack):
    from webhook_app.pipeline.reconcile import ensure_reconcile_job

    with stack.services.engine.begin() as connection:
        ensure_reconcile_job(connection, "bitrix24", stack.services.clock())
    stack.settle()  # the first pass only sets the watermark
    stack.emu.events.faults.drop_next = 1  # §1.6: Bitrix24 never resends a lost event
    number = stack.emu.create("lead", {"TITLE": "Потерянный"})
    stack.settle()
    assert stack.emu.record("lead", number)["ASSIGNED_BY_ID"] == "1"  # nobody heard of it yet
    with stack.services.engine.begin() as connection:
        connection.execute(
            update(jobs).where(jobs.c.kind == "reconcile").values(run_at=stack.services.clock())
        )
    stack.settle()
    assert stack.emu.record("lead", number)["ASSIGNED_BY_ID"] == "101"
    assert kinds(stack, f"lead:{number}").count("decision") == 1


def test_a_duplicated_event_is_decided_once(stack):
    stack.emu.events.faults.duplicate_next = 1
    number = stack.emu.create("lead", {"TITLE": "Дважды"})
    stack.settle()
    assert kinds(stack, f"lead:{number}").count("decision") == 1
    assert len([a for a in stack.emu.portal.activities if a["ownerId"] == str(number)]) == 1


@pytest.mark.parametrize("stack", [True], indirect=True)
def test_a_burst_is_fetched_and_written_fifty_at_a_time(stack):
    for n in range(120):
        stack.emu.create("lead", {"TITLE": f"#{n}", "PHONE": [{"VALUE": f"+7 900 {n:07d}"}]})
    # Let every event land first: a loaded machine would otherwise hand the worker the burst in
    # dribs, and the request count below is about batching, not about delivery timing.
    stack.emu.events.wait_idle(10.0)
    stack.settle(60)
    owners = {r["ASSIGNED_BY_ID"] for r in stack.emu.portal.records["lead"].values()}
    assert owners == {"101", "102"} and len(stack.emu.portal.comments) == 120
    # Per 50 leads: a get batch and a duplicate search for the new leads, one get batch for the
    # echoes, three write batches — about 0.14 requests a lead, against 5 with one call each.
    assert len(stack.emu.log) <= 0.2 * 120
    assert all(len(e.commands) <= 50 for e in stack.emu.log)
