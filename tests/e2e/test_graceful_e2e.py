"""SIGTERM stops `leadrouter web` gracefully: a webhook whose request is in flight when the signal
comes is still answered 200 and stored; the process then exits on its own (docs/operations.md,
"Restarting without failed deliveries")."""

from __future__ import annotations

import signal
import socket
import time
from urllib.parse import urlsplit

from sqlalchemy import func, select

from adapters.storage.engine import make_engine
from adapters.storage.tables import inbox
from tests.e2e.web_process import SECRET, leadrouter_web
from tests.web.test_hooks import amo_add


def test_a_webhook_in_flight_at_sigterm_is_answered_and_stored(tmp_path):
    with leadrouter_web(tmp_path) as server:
        body = amo_add("4242").encode()
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port), timeout=15) as client:
            head = (
                f"POST /hooks/amocrm/{SECRET} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            client.sendall(head.encode() + body[:20])  # the request has begun: it is in flight
            time.sleep(0.5)
            server.process.send_signal(signal.SIGTERM)  # as `systemctl stop` / `restart` does
            time.sleep(1.0)
            client.sendall(body[20:])
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        server.process.wait(timeout=20)  # it stops by itself once the request is answered
    engine = make_engine(f"sqlite:///{tmp_path / 'lr.db'}")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(inbox)).scalar() == 1
    engine.dispose()
