"""End to end over loopback: `leadrouter serve` and the amoCRM emulator, webhooks both ways.

A lead created in amoCRM reaches us as `add_lead`; we route it and write the responsible, a task
and a note with the reason; our own write comes back as `responsible_lead` + `update_lead`, which
must be recognised as our echo and never cause a second decision.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.amocrm import AmoEmulator

ROOT = Path(__file__).resolve().parents[2]
LEADROUTER = [sys.executable, "-m", "webhook_app.cli.main"]
SECRET = "e2e-hook-Secret-77"
CONFIG = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: {type: amocrm, base_url: "%(url)s", account_id: %(account)s}
managers:
  ivanova: {crm_user_id: 504141, name: Иванова}
  petrov: {crm_user_id: 504142, name: Петров}
  head: {crm_user_id: 504100, name: Руководитель}
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
rules:
  - {name: default, pool: sales}
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stack(tmp_path) -> Iterator[tuple[AmoEmulator, dict[str, str], str]]:
    with AmoEmulator(rate=7) as emu:
        config = tmp_path / "config.yaml"
        config.write_text(CONFIG % {"url": emu.url, "account": emu.account.id}, encoding="utf-8")
        env = os.environ | {
            "PYTHONPATH": str(ROOT),
            "LEADROUTER_CONFIG": str(config),
            "LEADROUTER_DATABASE_URL": f"sqlite:///{tmp_path / 'leadrouter.db'}",
            "LEADROUTER_WEBHOOK_SECRET": SECRET,
            "LEADROUTER_AMOCRM_TOKEN": emu.admin_token(),
        }
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        installed = subprocess.run(
            [*LEADROUTER, "install", "--public-url", public],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert installed.returncode == 0, installed.stderr
        server = subprocess.Popen(
            [*LEADROUTER, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: _healthy(public), what="leadrouter serve to answer /healthz")
            yield emu, env, str(tmp_path)
        finally:
            server.terminate()
            _, errors = server.communicate(timeout=20)
            assert SECRET not in errors and env["LEADROUTER_AMOCRM_TOKEN"] not in errors


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def audit(env: dict[str, str], cwd: str, lead_id: int) -> list[dict]:
    done = subprocess.run(
        [*LEADROUTER, "audit", "--lead", str(lead_id), "--format", "json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_a_new_lead_is_assigned_with_a_task_and_a_note_and_our_echo_decides_nothing(stack):
    emu, env, cwd = stack
    lead = emu.create_lead(name="Заявка с сайта")
    wait_for(lambda: emu.notes_for(lead.id), what="the note with the reason")
    assert emu.account.leads[lead.id].responsible_user_id == 504141
    task = emu.tasks_for(lead.id)[0]
    assert (task["responsible_user_id"], task["text"], task["entity_type"]) == (
        504141,
        "Связаться с клиентом",
        "leads",
    )
    note = emu.notes_for(lead.id)[0]["params"]["text"]
    assert note.startswith("leadrouter: ") and "default" in note and "Иванова" in note
    wait_for(lambda: len([e for e in audit(env, cwd, lead.id) if e["kind"] == "echo"]) >= 2, what="echoes")
    kinds = [e["kind"] for e in audit(env, cwd, lead.id)]
    assert kinds.count("decision") == 1
    assert kinds.count("crm_write") == 3 and kinds.count("received") == 3
    echoes = [e for e in audit(env, cwd, lead.id) if e["kind"] == "echo"]
    assert {e["detail"]["action"] for e in echoes} == {"responsible", "update"}
    assert emu.account.leads[lead.id].responsible_user_id == 504141  # nobody wrote it twice
    assert len(emu.requests("PATCH", "/api/v4/leads")) == 1
