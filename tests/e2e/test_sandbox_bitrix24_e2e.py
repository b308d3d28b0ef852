"""`leadrouter sandbox` as `make run CRM=bitrix24` starts it: the Bitrix24 example against the bundled
Bitrix24 emulator — the config stays Bitrix24, `install` binds the deal events as an app does, the
portal POSTs its events to the service, and the admin API fills with new deals, the stage handoffs
(«qualified», «won»), an SLA re-route, won and lost deals; then it stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.e2e.stack import wait_for
from tests.e2e.test_amocrm_e2e import LEADROUTER, ROOT, free_port
from tests.e2e.test_sandbox_e2e import ADMIN, Running

pytestmark = pytest.mark.slow


@pytest.fixture
def bitrix24(tmp_path) -> Iterator[Running]:
    """`leadrouter sandbox --config examples/bitrix24.yaml` in a subprocess, nothing of the caller's
    LEADROUTER_* settings in it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")} | {"PYTHONPATH": str(ROOT)}
    out, err, state = tmp_path / "stdout.txt", tmp_path / "stderr.txt", tmp_path / "state"
    config = ROOT / "examples" / "bitrix24.yaml"
    command = [*LEADROUTER, "sandbox", "--config", str(config), "--port", str(port)]
    command += ["--every", "1", "--sla-minutes", "1", "--dir", str(state)]
    with out.open("w", encoding="utf-8") as stdout, err.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=stdout, stderr=stderr, text=True)
    running = Running(process, f"http://127.0.0.1:{port}", out, err, state)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_bitrix24_sandbox_binds_its_events_and_fills_the_admin_api(bitrix24):
    sandbox = bitrix24
    wait_for(lambda: "Ctrl-C останавливает всё" in sandbox.output(), timeout=90, what="the sandbox's banner")
    banner = sandbox.output()
    assert "на встроенном эмуляторе Bitrix24" in banner and "amoCRM" not in banner
    assert f"{sandbox.url}/hooks/bitrix24/demo-secret" in banner
    for event in ("ONCRMDEALADD", "ONCRMDEALUPDATE"):  # bound by `install` with event.bind, as an app
        assert f"подписано: {event} → {sandbox.url}/hooks/bitrix24/***" in banner
    derived = yaml.safe_load((sandbox.state / "config.yaml").read_text(encoding="utf-8"))
    assert derived["crm"]["type"] == "bitrix24" and derived["crm"]["entity"] == "deal"  # no conversion

    def purposes() -> set[str]:
        return {d["purpose"].split(":")[0] for d in sandbox.decisions()}

    wait_for(
        lambda: {"new", "qualified", "won", "sla"} <= purposes(),
        timeout=180,
        what="new deals, both stage handoffs and an SLA re-route",
    )
    decisions = sandbox.decisions()
    assert sum(d["purpose"] == "new" for d in decisions) >= 20
    assert all(d["lead_id"].startswith("deal:") for d in decisions)
    assert {d["pool"] for d in decisions} >= {"territories", "shared", "call-center", "account-managers"}
    assert all(d["reason"] for d in decisions)

    split = httpx.get(f"{sandbox.url}/api/v1/split", params={"period": "today"}, headers=ADMIN, timeout=5)
    received = {p["pool"]: sum(m["received"] for m in p["members"]) for p in split.json()["pools"]}
    assert received["territories"] > 0 and received["shared"] > 0
    territories = next(p for p in split.json()["pools"] if p["pool"] == "territories")
    assert territories["by_key"] and all(m["target"] is None for m in territories["members"])
    won = next(d for d in decisions if d["purpose"] == "won")
    story = httpx.get(f"{sandbox.url}/api/v1/leads/{won['lead_id']}", headers=ADMIN, timeout=5).json()
    kinds = [e["kind"] for e in story["events"]]
    assert kinds[0] == "received" and "stage_changed" in kinds and "won" in kinds and "handoff" in kinds
    assert httpx.get(f"{sandbox.url}/api/v1/health", headers=ADMIN, timeout=5).json()["dead_letters"] == 0

    assert sandbox.stop(signal.SIGINT) == 0
    log = (sandbox.state / "service.log").read_text(encoding="utf-8")
    for text in (sandbox.output(), sandbox.err.read_text(encoding="utf-8"), log):
        assert "Traceback" not in text
    assert sandbox.output().rstrip().endswith("leadrouter sandbox: остановлена")
    assert "Shutting down: Master" in log
