"""A start-up with a refused config file runs the newest good stored version, and says so loudly."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from adapters.storage.audit import read_audit
from adapters.storage.configs import last_refusal
from adapters.storage.engine import reading
from tests.e2e.test_amocrm_e2e import free_port, wait_for
from tests.web.conftest import CONFIG, CRM_EXTRA, make_stack
from webhook_app.cli.main import main
from webhook_app.config import ConfigError
from webhook_app.config.live import ConfigHolder

ROOT = Path(__file__).resolve().parents[2]
BROKEN = "  sales: {members: [ivanova, nobody], strategy: round_robin}"


def break_file(path: Path) -> None:
    """A bad edit: a pool member that is not a manager (refused on line 11)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  sales: {members: [ivanova, petrov], strategy: round_robin}", BROKEN))


def refusal(stack) -> dict:
    with reading(stack.services.engine) as connection:
        found = last_refusal(connection)
    assert found is not None
    return found


def test_a_process_started_on_a_refused_file_runs_the_stored_version_and_says_so(tmp_path, caplog):
    stack = make_stack(tmp_path)
    good = stack.services.config.current.version
    path = stack.services.config.path
    break_file(path)
    with caplog.at_level(logging.ERROR, logger="leadrouter.config"):
        restarted = ConfigHolder(path, stack.services.engine, stack.clock)  # a process started now
    assert restarted.current.version == good
    assert f"{path}:11" in caplog.text and "nobody" in caplog.text
    assert restarted.last_error is not None and f"{path}:11" in restarted.last_error
    fallback = refusal(stack)["fallback"]
    assert fallback["file"] == str(path) and fallback["running"] == good
    row = read_audit(stack.services.engine, kinds=("config",))[0]
    assert row.config_version == good and any(f"{path}:11" in p for p in row.detail["problems"])


def test_the_fallback_is_shown_until_the_file_loads_again(tmp_path):
    stack = make_stack(tmp_path)
    path = stack.services.config.path
    good_text = path.read_text(encoding="utf-8")
    break_file(path)
    holder = ConfigHolder(path, stack.services.engine, stack.clock)
    with pytest.raises(ConfigError):
        holder.reload("sighup")  # still broken: the fallback stands, one more refusal counted
    assert "fallback" in refusal(stack) and refusal(stack)["count"] == 2
    path.write_text(good_text, encoding="utf-8")
    holder.reload("sighup")  # fixed (the same text as the version that runs)
    assert "fallback" not in refusal(stack) and holder.last_error is None


def test_a_refused_file_with_nothing_stored_still_exits_1_with_its_problems(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}, encoding="utf-8")
    break_file(config)
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["web", "--config", str(config)]) == 1
    assert f"{config}:11" in capsys.readouterr().err


def test_leadrouter_web_starts_on_the_stored_version_when_the_file_is_refused(tmp_path):
    stack = make_stack(tmp_path)
    good = stack.services.config.current.version
    path = stack.services.config.path
    break_file(path)
    port = free_port()
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "LEADROUTER_DATABASE_URL": str(stack.services.settings.database_url),
        "LEADROUTER_WEBHOOK_SECRET": "s3cret-of-the-test",
    }
    command = [sys.executable, "-m", "webhook_app.cli.main", "web", "--config", str(path)]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _health(port) is not None or server.poll() is not None, what="/healthz")
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        health = _health(port)
        assert health is not None and health["config_version"] == good
        assert health["status"] == "degraded" and health["config_fallback"]["running"] == good
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"{path}:11" in err and "отклонён при запуске" in err  # in the running version's language
    assert refusal(stack)["fallback"]["running"] == good


def _health(port: int) -> dict | None:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.HTTPError:
        return None
    return dict(answer.json())
