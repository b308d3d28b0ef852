"""A real `leadrouter web` (or `serve`) process on a free loopback port, for tests that need the server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.test_amocrm_e2e import free_port, wait_for
from tests.web.conftest import CONFIG, CRM_EXTRA

ROOT = Path(__file__).resolve().parents[2]
SECRET = "web-process-Secret-3k"


@dataclass
class WebProcess:
    """The running server: its URL, the hook URL with the secret, and what it printed once stopped."""

    url: str
    hook: str
    process: subprocess.Popen[str]
    output: str = ""


def write_config(directory: Path) -> Path:
    """The web tests' small amoCRM config, as a file."""
    path = directory / "config.yaml"
    path.write_text(CONFIG % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}, encoding="utf-8")
    return path


@contextmanager
def leadrouter_web(
    directory: Path, *args: str, config: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[WebProcess]:
    """`leadrouter web --workers 1 ARGS…` on a SQLite file in `directory`, until the block ends (SIGTERM)."""
    port = free_port()
    environment = os.environ | {
        "PYTHONPATH": str(ROOT),
        "LEADROUTER_DATABASE_URL": f"sqlite:///{directory / 'lr.db'}",
        "LEADROUTER_WEBHOOK_SECRET": SECRET,
        **(env or {}),
    }
    path = config or write_config(directory)
    command = [sys.executable, "-m", "webhook_app.cli.main", "web", "--config", str(path)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "1", *args],
        cwd=directory,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    server = WebProcess(url, f"{url}/hooks/amocrm/{SECRET}", process)
    try:
        wait_for(lambda: process.poll() is not None or _answers(url), what="the server to answer /healthz")
        assert process.poll() is None, process.communicate()[0]
        yield server
    finally:
        process.terminate()
        server.output = process.communicate(timeout=30)[0]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False
