"""A lead deleted in the CRM mid-run is recorded as deleted, never as dead letters — on both
emulators, through the real clients, web app and worker: the CRM's deletion webhook, and a write the
CRM refuses because the lead is gone (no deletion webhook subscribed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from adapters.storage.audit import read_audit
from adapters.storage.lives import load_lives
from adapters.storage.tables import jobs, outbox
from sandbox.amocrm import AmoEmulator
from sandbox.bitrix24.emulator import Bitrix24Emulator
from webhook_app.bootstrap import build_services, build_worker
from webhook_app.pipeline.worker import Worker
from webhook_app.settings import Settings
from webhook_app.web.app import create_app

SECRET, TOKEN = "hook-secret-deleted-9", "app-token-deleted-9"
CONFIG = """
language: %(language)s
timezone: Europe/Moscow
crm: %(crm)s
managers:
  ivanova: {crm_user_id: %(u1)s, name: Иванова}
  petrov: {crm_user_id: %(u2)s, name: Петров}
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
rules:
  - {name: default, pool: sales}
handoffs:
  - {name: sla, unworked_minutes: 15, to: next_in_pool}
on_assign: {task: {text: "Позвонить", due_minutes: 15}, note: true}
"""


@dataclass
class Side:
    """One CRM's emulator wired to a real app and worker."""

    crm: str
    worker: Worker
    engine: Any
    create: Callable[[], str]  # a new lead (its webhook follows): our lead id
    delete: Callable[[str], None]  # a person deletes it in the CRM
    wait_hooks: Callable[[], None]
    tasks: Callable[[str], int]

    def settle(self) -> None:
        """Deliver the webhooks, then decide and store (nothing is sent to the CRM yet)."""
        self.wait_hooks()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # a part-filled read is held back up to a second
            self.worker.process()
            with self.engine.connect() as c:
                due = select(jobs.c.id).where(
                    jobs.c.state.in_(["pending", "running"]), jobs.c.kind.in_(["lead", "event"])
                )
                if c.execute(due).first() is None:
                    return
            time.sleep(0.1)
        raise AssertionError("the worker did not settle")

    def states(self, lead_id: str) -> tuple[dict[str, int], dict[str, int]]:
        with self.engine.connect() as c:
            writes = [s for (s,) in c.execute(select(outbox.c.state).where(outbox.c.lead_id == lead_id))]
            queued = [
                (k, s)
                for k, s in c.execute(select(jobs.c.kind, jobs.c.state).where(jobs.c.lead_id == lead_id))
            ]
        count_w: dict[str, int] = {}
        for s in writes:
            count_w[s] = count_w.get(s, 0) + 1
        count_j: dict[str, int] = {}
        for k, s in queued:
            count_j[f"{k}:{s}"] = count_j.get(f"{k}:{s}", 0) + 1
        return count_w, count_j


def _serve(services) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def amocrm(tmp_path, request) -> Iterator[Callable[[bool], Side]]:
    emu = AmoEmulator(rate=None, hook_threads=2).start()
    servers = []

    def make(delete_hook: bool) -> Side:
        config = tmp_path / "config.yaml"
        crm = f'{{type: amocrm, base_url: "{emu.url}", account_id: {emu.account.id}}}'
        config.write_text(
            CONFIG % {"language": "ru", "crm": crm, "u1": 504141, "u2": 504142}, encoding="utf-8"
        )
        settings = Settings(
            config=config,
            database_url=f"sqlite:///{tmp_path / 'lr.db'}",
            webhook_secret=SECRET,
            amocrm_token=emu.admin_token(),
        )  # type: ignore[arg-type]
        services = build_services(settings)
        server, base = _serve(services)
        servers.append(server)
        settings_ = ["add_lead", "update_lead", "responsible_lead", "status_lead"]
        emu.subscribe(
            f"{base}/hooks/amocrm/{SECRET}", [*settings_, *(["delete_lead"] if delete_hook else [])]
        )
        return Side(
            "amocrm",
            build_worker(services, "w1"),
            services.engine,
            create=lambda: str(emu.create_lead().id),
            delete=lambda lead: emu.delete_lead(int(lead)),
            wait_hooks=lambda: _quiet(emu.hooks.wait),
            tasks=lambda lead: len(emu.tasks_for(int(lead))),
        )

    yield make
    for server in servers:
        server.shutdown()
    emu.stop()


@pytest.fixture
def bitrix24(tmp_path) -> Iterator[Callable[[bool], Side]]:
    with Bitrix24Emulator(rate=50, burst=50) as emu:
        servers = []

        def make(delete_hook: bool) -> Side:
            config = tmp_path / "config.yaml"
            crm = f'{{type: bitrix24, base_url: "{emu.url}", domain: b24.example.ru, entity: lead}}'
            config.write_text(CONFIG % {"language": "en", "crm": crm, "u1": 101, "u2": 102}, encoding="utf-8")
            settings = Settings(
                config=config,
                database_url=f"sqlite:///{tmp_path / 'lr.db'}",
                webhook_secret=SECRET,
                bitrix24_app_token=TOKEN,
                bitrix24_webhook_url=emu.add_webhook(),
            )  # type: ignore[arg-type]
            services = build_services(settings)
            server, base = _serve(services)
            servers.append(server)
            events = ["ONCRMLEADADD", "ONCRMLEADUPDATE", *(["ONCRMLEADDELETE"] if delete_hook else [])]
            emu.add_outgoing_webhook(f"{base}/hooks/bitrix24/{SECRET}", events, TOKEN)

            def tasks(lead: str) -> int:
                number = lead.split(":")[1]
                return sum(1 for a in emu.portal.activities if str(a.get("ownerId")) == number)

            return Side(
                "bitrix24",
                build_worker(services, "w1"),
                services.engine,
                create=lambda: f"lead:{emu.create('lead', {'TITLE': 'Заявка'})}",
                delete=lambda lead: emu.delete("lead", int(lead.split(":")[1])),
                wait_hooks=lambda: _quiet(emu.events.wait_idle),
                tasks=tasks,
            )

        yield make
        for server in servers:
            server.shutdown()


def _quiet(wait: Callable[..., Any]) -> None:
    wait()
    time.sleep(0.2)  # the app's answer committed; the job is visible to the worker


@pytest.fixture(params=["amocrm", "bitrix24"])
def side(request) -> Callable[[bool], Side]:
    return request.getfixturevalue(request.param)


def test_a_lead_deleted_in_the_crm_before_its_writes_went_out_is_recorded_deleted(side):
    """The CRM's deletion webhook: the lead is closed as deleted, its task, note and SLA cancelled."""
    crm = side(True)
    kept, gone = crm.create(), crm.create()
    crm.settle()  # both decided; their writes and SLA timers wait
    crm.delete(gone)
    crm.settle()
    crm.worker.flush()
    assert crm.tasks(kept) == 1 and crm.tasks(gone) == 0
    writes, queued = crm.states(gone)
    assert writes == {"cancelled": 3} and queued.get("sla:cancelled") == 1
    assert "sla:pending" not in queued
    (deleted,) = read_audit(crm.engine, lead_id=gone, kinds=("deleted",))
    assert deleted.detail == {"source": "webhook", "writes": 3, "jobs": 1}
    with crm.engine.connect() as c:
        assert load_lives(c, crm.crm, [gone])[gone].closed == "deleted"
        assert load_lives(c, crm.crm, [kept])[kept].closed is None
    assert read_audit(crm.engine, kinds=("dead_letter",)) == []


def test_a_write_refused_for_a_deleted_lead_is_not_a_dead_letter(side):
    """No deletion webhook: the CRM refuses the responsible write (the lead is gone); the lead is
    recorded deleted from that answer, the task and note never go out, nothing is dead-lettered."""
    crm = side(False)
    gone = crm.create()
    crm.settle()
    crm.delete(gone)
    crm.wait_hooks()
    crm.worker.flush()  # the responsible write is refused: GONE
    crm.settle()  # the worker records the deletion
    crm.worker.flush()
    assert crm.tasks(gone) == 0
    writes, queued = crm.states(gone)
    assert writes == {"cancelled": 3} and "sla:pending" not in queued
    (deleted,) = read_audit(crm.engine, lead_id=gone, kinds=("deleted",))
    assert deleted.detail["source"] == "write"
    refused = read_audit(crm.engine, lead_id=gone, kinds=("write_cancelled",))
    assert [a.detail["write"] for a in refused] == ["responsible"]  # the task and note never went out
    with crm.engine.connect() as c:
        assert load_lives(c, crm.crm, [gone])[gone].closed == "deleted"
        dead = [s for (s,) in c.execute(select(outbox.c.state)) if s == "dead"]
    assert dead == [] and read_audit(crm.engine, kinds=("dead_letter",)) == []


def test_a_lead_restored_after_its_deletion_lives_on():
    """amoCRM can restore a lead from its trash: the next update reopens its life (pure lifecycle)."""
    from datetime import UTC, datetime

    from core.lifecycle import step
    from core.lifecycle_types import Deleted, LeadLife, Updated
    from core.model import Lead
    from core.state import RoutingState
    from tests.integration.helpers import team_policy

    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    life = LeadLife("7", owner="ivanova", owner_user=101, place="new", stage="new")
    gone = step(life, Deleted("webhook"), team_policy(), RoutingState(), now)
    assert gone.life is not None and gone.life.closed == "deleted"
    again = step(gone.life, Deleted("write"), team_policy(), RoutingState(), now)
    assert [type(e).__name__ for e in again.effects] == ["Note", "Cancel"]  # quiet: already recorded
    lead = Lead(id="7", created_at=now, stage_id="new", stage="new", responsible_user_id=101)
    back = step(gone.life, Updated(lead), team_policy(), RoutingState(), now)
    assert back.life is not None and back.life.closed is None
    assert [e.kind for e in back.effects] == ["restored"]  # type: ignore[union-attr]
