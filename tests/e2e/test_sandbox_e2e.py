"""`leadrouter sandbox` as `make run` starts it: the service on the example config against the bundled
amoCRM emulator fills the admin API with decisions, handoffs and an SLA re-route, then stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.stack import wait_for
from tests.e2e.test_amocrm_e2e import LEADROUTER, ROOT, free_port

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer demo-admin"}


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str
    out: Path
    err: Path
    state: Path

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def decisions(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/decisions", params={"limit": 1000}, headers=ADMIN, timeout=5)
        return list(answer.json()["decisions"]) if answer.status_code == 200 else []

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=40)


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Running]:
    """`leadrouter sandbox` in a subprocess, with the caller's LEADROUTER_* settings left out."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")} | {"PYTHONPATH": str(ROOT)}
    out, err, state = tmp_path / "stdout.txt", tmp_path / "stderr.txt", tmp_path / "state"
    command = [*LEADROUTER, "sandbox", "--config", str(ROOT / "config.example.yaml"), "--port", str(port)]
    command += ["--every", "0.5", "--sla-minutes", "1", "--dir", str(state)]
    with out.open("w", encoding="utf-8") as stdout, err.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=stdout, stderr=stderr, text=True)
    running = Running(process, f"http://127.0.0.1:{port}", out, err, state)
    try:
        yield running
    finally:
        if process.poll() is None:  # a failed test: stop it in order, so its service stops too
            process.terminate()
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_sandbox_fills_the_admin_api_and_stops_cleanly_on_sigint(sandbox):
    wait_for(lambda: "Ctrl-C останавливает всё" in sandbox.output(), timeout=90, what="the sandbox's banner")
    banner = sandbox.output()
    assert f"{sandbox.url}/admin   токен: demo-admin" in banner
    assert f"{sandbox.url}/hooks/amocrm/demo-secret" in banner
    assert "вебхук amoCRM зарегистрирован" in banner and "unworked_minutes 15 → 1" in banner

    def purposes() -> set[str]:
        return {d["purpose"].split(":")[0] for d in sandbox.decisions()}

    wait_for(
        lambda: {"new", "qualified", "contract-signed", "sla"} <= purposes(),
        timeout=150,
        what="new leads, both stage handoffs and an SLA re-route",
    )
    decisions = sandbox.decisions()
    assert sum(d["purpose"] == "new" for d in decisions) >= 20
    assert {d["route"] for d in decisions} >= {"pool", "continuity"}  # repeat clients kept their manager
    assert {d["pool"] for d in decisions} >= {"territories", "shared", "call-center", "tenders", "chains"}
    assert all(d["reason"] for d in decisions)

    split = httpx.get(f"{sandbox.url}/api/v1/split", params={"period": "today"}, headers=ADMIN, timeout=5)
    assert split.status_code == 200
    received = {p["pool"]: sum(m["received"] for m in p["members"]) for p in split.json()["pools"]}
    new_by_pool = Counter(d["pool"] for d in decisions if d["purpose"] == "new" and d["route"] == "pool")
    assert all(received[pool] >= count for pool, count in new_by_pool.items())  # the split counts new leads
    assert received["territories"] > 0 and received["shared"] > 0 and received["call-center"] > 0
    health = httpx.get(f"{sandbox.url}/api/v1/health", headers=ADMIN, timeout=5).json()
    assert health["dead_letters"] == 0

    assert sandbox.stop(signal.SIGINT) == 0
    log = (sandbox.state / "service.log").read_text(encoding="utf-8")
    for text in (sandbox.output(), sandbox.err.read_text(encoding="utf-8"), log):
        assert "Traceback" not in text
    assert sandbox.output().rstrip().endswith("leadrouter sandbox: остановлена")
    assert "Shutting down: Master" in log  # the service was stopped, not orphaned
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.url}/healthz", timeout=2)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_a_closed_terminal_stop_it_cleanly_too(sandbox, signum):
    wait_for(lambda: "+ лид " in sandbox.output(), timeout=90, what="the first lead")
    assert sandbox.stop(signum) == 0
    assert "Shutting down: Master" in (sandbox.state / "service.log").read_text(encoding="utf-8")
    assert "Traceback" not in sandbox.output() + sandbox.err.read_text(encoding="utf-8")
    assert "Traceback" not in (sandbox.state / "service.log").read_text(encoding="utf-8")
