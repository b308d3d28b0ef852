"""A silenced webhook is noticed and brought back (issue 19, item 3), end to end: the real
`leadrouter serve` against the CRM emulators over loopback.

- amoCRM: a restart storm (the service stopped and started while leads keep coming) fails more than
  100 deliveries within 2 hours, and amoCRM switches our hook off; the hook check notices at once,
  subscribes again, audits it, `/healthz` and `/metrics` say so, and the next lead comes by webhook.
- Bitrix24 (an app): an admin removes our event bindings while the service runs; the check notices
  within one period, binds them again, and the next deal comes by webhook.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from adapters.bitrix24.oauth import TokenPair, install_tokens
from adapters.storage.audit import read_audit
from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from sandbox.amocrm import AmoEmulator
from sandbox.bitrix24.emulator import Bitrix24Emulator
from tests.e2e.stack import AmoDriver, Bitrix24Driver, CrmDriver, base_env, run, wait_for
from tests.e2e.test_amocrm_e2e import LEADROUTER, _healthy, free_port

CHECK_EVERY = 10  # seconds: `hooks.check_every_seconds`, the least the config allows
CONFIG = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: %(crm)s
managers:
  ivanova: {crm_user_id: 504141, name: Иванова}
  petrov: {crm_user_id: 504142, name: Петров}
  head: {crm_user_id: 504100, name: Руководитель}
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
rules:
  - {name: default, pool: sales}
hooks: {check_every_seconds: %(every)d}
"""


class Bitrix24App(Bitrix24Driver):
    """Bitrix24 through an OAuth app: `install` binds our events with `event.bind` (§1.1)."""

    def env(self) -> dict[str, str]:
        return {
            "LEADROUTER_BITRIX24_CLIENT_ID": "local.app.hooks",
            "LEADROUTER_BITRIX24_CLIENT_SECRET": "app-secret-hooks",
            "LEADROUTER_BITRIX24_APP_TOKEN": self.emu.portal.app_token,
        }

    def connect(self, public: str, env: dict[str, str], cwd: Path) -> None:
        engine = make_engine(env["LEADROUTER_DATABASE_URL"])
        upgrade_database(engine)
        install_tokens(engine, TokenPair(*self.emu.issue_tokens()))  # as ONAPPINSTALL brings them
        engine.dispose()
        done = run(env, cwd, "install", "--public-url", public)
        assert done.returncode == 0, done.stderr

    def secrets(self) -> list[str]:
        return []


class Running:
    """`leadrouter serve` on one port, stopped and started again as a deployment restarts it."""

    def __init__(self, crm: CrmDriver, tmp_path: Path) -> None:
        config = tmp_path / "config.yaml"
        config.write_text(CONFIG % {"crm": crm.crm_line(), "every": CHECK_EVERY}, encoding="utf-8")
        self.env = base_env(crm, config, tmp_path)
        self.cwd, self.port = tmp_path, free_port()
        self.public = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "serve.log"
        self.process: subprocess.Popen[str] | None = None
        self.engine = make_engine(self.env["LEADROUTER_DATABASE_URL"])
        crm.connect(self.public, self.env, tmp_path)

    def start(self) -> None:
        with self.log.open("a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [*LEADROUTER, "serve", "--port", str(self.port)],
                cwd=self.cwd,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
        process = self.process
        wait_for(lambda: _healthy(self.public) or process.poll() is not None, what="leadrouter serve")
        assert process.poll() is None, self.log.read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.public}/healthz", timeout=5).json()
        return answer

    def metric(self, name: str) -> float | None:
        for line in httpx.get(f"{self.public}/metrics", timeout=5).text.splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return None

    def audit(self, *kinds: str, lead_id: str | None = None) -> list[Any]:
        return read_audit(self.engine, kinds=kinds, lead_id=lead_id)


@contextmanager
def running(crm: CrmDriver, tmp_path: Path) -> Iterator[Running]:
    service = Running(crm, tmp_path)
    service.start()
    try:
        yield service
    finally:
        service.stop()
        service.engine.dispose()
        assert "Traceback" not in service.log.read_text(encoding="utf-8")


def arrived_by_webhook(service: Running, audit_id: str) -> bool:
    """The lead reached us as a webhook (not found by the reconciler) and was routed."""
    kinds = [e.kind for e in service.audit(lead_id=audit_id)]
    return "received" in kinds and "decision" in kinds


def test_a_restart_storm_disables_the_amocrm_hook_and_the_check_brings_it_back(tmp_path):
    with AmoEmulator(rate=7, hook_threads=4) as emu:
        crm = AmoDriver(emu)
        with running(crm, tmp_path) as service:
            first = crm.create()
            wait_for(lambda: arrived_by_webhook(service, str(first)), what="the first lead by webhook")
            (destination,) = emu.account.webhooks
            for _ in range(3):  # three restarts, 35 leads during each one's down time
                service.stop()
                emu.create_leads(35)
                assert emu.hooks.wait()
                service.start()
            failed = [d for d in emu.hooks.deliveries if d.status is None]  # connection refused
            assert len(failed) > 100 and emu.hooks.withheld > 0  # then switched off: the rest never sent
            # amoCRM switched the hook off during the storm; the check at start-up found it so and
            # subscribed again: no one ran `install`.
            wait_for(lambda: bool(service.audit("hook_repaired")), what="the hook to be repaired")
            assert not emu.account.webhooks[destination].disabled
            (repaired,) = service.audit("hook_repaired")
            assert repaired.detail["problem"] == "the webhook is disabled"
            assert emu.requests("POST", "/api/v4/webhooks")[-1].status == 201

            (hook,) = service.health()["hooks"]
            assert (hook["state"], hook["repairs"], hook["repaired"]) == ("ok", 1, "the webhook is disabled")
            assert service.metric('leadrouter_hook_repairs_total{crm="amocrm"}') == 1.0
            assert service.metric('leadrouter_hook_state{crm="amocrm",state="ok"}') == 1.0
            after = crm.create()
            wait_for(lambda: arrived_by_webhook(service, str(after)), what="a new lead by webhook again")


def test_removed_bitrix24_bindings_are_noticed_within_one_period_and_bound_again(tmp_path):
    with Bitrix24Emulator() as emu:
        crm = Bitrix24App(emu)
        with running(crm, tmp_path) as service:
            first = crm.create()
            wait_for(lambda: arrived_by_webhook(service, crm.audit_id(first)), what="the first deal")
            wait_for(lambda: bool(service.health()["hooks"]), what="the first hook check")
            assert service.health()["hooks"][0]["state"] == "ok"
            assert emu.remove_bindings(["ONCRMDEALADD", "ONCRMDEALUPDATE"]) == 2  # an admin, say
            lost = crm.create()  # no event for this one: nothing is bound to ONCRMDEALADD
            assert emu.events.wait_idle()
            assert not any(d.entity_id == str(lost) for d in emu.events.deliveries)
            wait_for(
                lambda: bool(service.audit("hook_repaired")),
                timeout=CHECK_EVERY + 20,
                what="the bindings to be noticed and bound again within one period",
            )
            (repaired,) = service.audit("hook_repaired")
            assert "ONCRMDEALADD" in repaired.detail["problem"]
            bound = {h.event for h in emu.portal.handlers if h.kind == "app"}
            assert {"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"} <= bound
            assert service.health()["hooks"][0]["repairs"] == 1
            after = crm.create()
            wait_for(lambda: arrived_by_webhook(service, crm.audit_id(after)), what="a new deal by webhook")
