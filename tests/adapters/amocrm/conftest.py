"""Fixtures for the amoCRM client: a database, the emulator on loopback, a client wired to either."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from adapters.amocrm.client import AmoCrmClient
from adapters.amocrm.factory import build_client
from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from sandbox.amocrm import AmoEmulator
from tests.integration.conftest import db_url, engine, pg_url, sqlite_url  # noqa: F401  (fixtures)

TOKEN = "long-lived-Secret-Token-9f3a"
BASE = "https://example.amocrm.ru"


@dataclass
class FakeTime:
    """A clock that only moves when someone sleeps (or a test advances it); sleeps are recorded."""

    now: float = 1_790_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def db(tmp_path) -> Iterator[Engine]:
    """A migrated SQLite database (the shared rate limiter and the token store live there)."""
    database = make_engine(f"sqlite:///{tmp_path / 'amo.db'}")
    upgrade_database(database)
    yield database
    database.dispose()


@pytest.fixture
def emu() -> Iterator[AmoEmulator]:
    """The emulator without its rate limit (tests of the limit set it themselves)."""
    with AmoEmulator(rate=None, hook_threads=2) as emulator:
        yield emulator


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def mock_client(
    database: Engine, handler: Callable[[httpx.Request], httpx.Response], time: FakeTime, **options: Any
) -> AmoCrmClient:
    """A client whose HTTP goes to `handler`, with recorded sleeps and a fast limiter."""
    crm = {"type": "amocrm", "base_url": BASE, "rate_limit_per_second": 1000} | options.pop("crm", {})
    return build_client(
        crm=crm,
        secrets=options.pop("secrets", {"amocrm_token": TOKEN}),
        engine=database,
        transport=httpx.MockTransport(handler),
        sleep=time.sleep,
        clock=time,
        **options,
    )


def emu_client(database: Engine, emu: AmoEmulator, *, rate: float = 1000, **options: Any) -> AmoCrmClient:
    """A client talking to the emulator over loopback with an admin's long-lived token."""
    crm = {"type": "amocrm", "base_url": emu.url, "rate_limit_per_second": rate} | options.pop("crm", {})
    secrets = options.pop("secrets", None) or {"amocrm_token": emu.admin_token()}
    return build_client(crm=crm, secrets=secrets, engine=database, **options)


class HookCatcher:
    """A webhook receiver on loopback: keeps every POST's headers and form pairs, answers `status`."""

    def __init__(self) -> None:
        from flask import Flask, request
        from werkzeug.serving import make_server

        from sandbox.amocrm.server import _Quiet

        self.received: list[tuple[dict[str, str], list[tuple[str, str]]]] = []
        self.status = 200
        app = Flask("hook_catcher")

        @app.post("/hooks/<path:rest>")
        def receive(rest: str) -> tuple[str, int]:
            self.received.append((dict(request.headers), list(request.form.items(multi=True))))
            return "ok", self.status

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        import threading

        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/amocrm/s3cret"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def catcher() -> Iterator[HookCatcher]:
    hooks = HookCatcher()
    yield hooks
    hooks.close()
