"""Fixtures for the Bitrix24 client: a scripted MockTransport server, a client on it, an emulator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.bitrix24.client import Bitrix24Client
from adapters.bitrix24.factory import build_client
from adapters.formdata import parse_brackets
from sandbox.bitrix24.emulator import Bitrix24Emulator
from tests.integration import conftest as db_fixtures

# The database fixtures (SQLite, and PostgreSQL when LEADROUTER_TEST_DATABASE_URL is set).
db_url, engine, pg_url, sqlite_url = (
    db_fixtures.db_url,
    db_fixtures.engine,
    db_fixtures.pg_url,
    db_fixtures.sqlite_url,
)
WEBHOOK = "https://b24.example.ru/rest/1/s3cr3t-webhook-Qw8/"
Answer = tuple[int, Any] | Callable[[httpx.Request], httpx.Response]


@dataclass
class Scripted:
    """A MockTransport handler: answers from a script, records every request and the sleeps.

    It is also the client's clock (`now`, unix seconds), held still as the sleeps are: the waits a
    test sees do not depend on how fast the machine runs, nor on today's date."""

    script: list[Answer] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    default: Answer = (200, {"result": {"result": [], "result_error": []}})
    now: float = 1_796_202_000.0  # 2026-12-02 09:00 UTC

    def clock(self) -> float:
        return self.now

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.script.pop(0) if self.script else self.default
        if callable(answer):
            return answer(request)
        status, body = answer
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"Content-Type": "text/html"})
        return httpx.Response(status, json=body)

    def body(self, n: int = -1) -> dict[str, Any]:
        """The JSON body of request n."""
        return json.loads(self.requests[n].content)

    def commands(self, n: int = -1) -> dict[str, tuple[str, dict[str, Any]]]:
        """The batch commands of request n, parsed back into (method, params)."""
        out = {}
        for key, value in self.body(n)["cmd"].items():
            method, _, query = value.partition("?")
            out[key] = (method, dict(parse_brackets(parse_qsl(query, keep_blank_values=True))))
        return out


def batch_answer(results: dict[str, Any], errors: dict[str, Any] | None = None) -> tuple[int, Any]:
    """A batch answer: HTTP 200 with per-command results and errors (`[]` when none, §3)."""
    return 200, {
        "result": {
            "result": results or [],
            "result_error": errors or [],
            "result_total": [],
            "result_next": [],
            "result_time": [],
        },
        "time": {"start": 1.0},
    }


@pytest.fixture
def server() -> Scripted:
    return Scripted()


@pytest.fixture
def make_client(engine, server) -> Callable[..., Bitrix24Client]:
    def make(**crm: Any) -> Bitrix24Client:
        section = {"type": "bitrix24", "base_url": "https://b24.example.ru", "entity": "lead", **crm}
        return build_client(
            crm=section,
            secrets={"bitrix24_webhook_url": WEBHOOK},
            engine=engine,
            transport=httpx.MockTransport(server),
            sleep=server.sleeps.append,
            clock=server.clock,
            lookup_clients=False,
        )

    return make


@pytest.fixture
def emulator() -> Iterator[Bitrix24Emulator]:
    with Bitrix24Emulator() as emu:
        yield emu


@dataclass
class Receiver:
    """A loopback HTTP endpoint that keeps every form POSTed to it."""

    url: str = ""
    forms: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    got = Receiver()

    @Request.application
    def app(request: Request) -> Response:
        got.forms.append(dict(request.form.items()))
        return Response("ok")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    got.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield got
    server.shutdown()
