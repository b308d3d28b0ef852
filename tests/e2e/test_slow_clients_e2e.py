"""Fifty slow connections without any secret leave webhooks answered and /healthz up."""

from __future__ import annotations

import contextlib
import socket

import httpx

from tests.e2e.slow_clients import slow_connections
from tests.e2e.web_process import leadrouter_web
from tests.web.test_hooks import amo_add

FORM = {"content-type": "application/x-www-form-urlencoded"}
PATIENCE = 10.0  # a generous client timeout: the real latency is measured in bench/slow_clients.py


def test_fifty_slow_connections_leave_webhooks_answered_and_healthz_up(tmp_path):
    with leadrouter_web(tmp_path) as server, slow_connections(server.url, 50):
        for n in range(3):
            hook = httpx.post(server.hook, content=amo_add(str(n)), headers=FORM, timeout=PATIENCE)
            assert hook.status_code == 200 and hook.json()["stored"] == 1
            health = httpx.get(f"{server.url}/healthz", timeout=PATIENCE)
            assert health.status_code == 200


def test_an_endless_request_head_is_cut_off_and_the_server_answers_the_next_request(tmp_path):
    with leadrouter_web(tmp_path) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=PATIENCE) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            with contextlib.suppress(OSError):  # the server may close before all of it is sent
                for n in range(200):  # 200 KiB of headers, never ended
                    connection.sendall(b"X-Pad-%d: " % n + b"y" * 1024 + b"\r\n")
            answer = b""
            with contextlib.suppress(OSError):  # a reset is a refusal too
                answer = connection.recv(100)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4")
        assert httpx.get(f"{server.url}/healthz", timeout=PATIENCE).status_code == 200
