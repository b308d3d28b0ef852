"""Slow clients without any secret: connections that send their headers, or their body, a byte at a
time and never finish — what a slowloris attack or a bad mobile network looks like to the server."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

PARTIAL_HEADERS = b"POST /hooks/amocrm/not-the-secret HTTP/1.1\r\nHost: x\r\nX-Slow: "
PARTIAL_BODY = (
    b"POST /hooks/amocrm/not-the-secret HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\na="
)


@contextmanager
def slow_connections(url: str, count: int, *, every: float = 0.5, limit: float = 120.0) -> Iterator[int]:
    """`count` connections to the server at `url`, half stuck in their headers and half in their body,
    each sent one more byte every `every` seconds until the block ends (or `limit` seconds pass)."""
    parts = urlsplit(url)
    sockets = []
    for n in range(count):
        connection = socket.create_connection((parts.hostname, parts.port), timeout=5)
        connection.sendall(PARTIAL_HEADERS if n % 2 == 0 else PARTIAL_BODY)
        sockets.append(connection)
    stop = threading.Event()

    def trickle() -> None:
        for _ in range(int(limit / every)):
            if stop.wait(every):
                return
            for connection in sockets:
                with contextlib.suppress(OSError):  # the server gave up on it: that is allowed
                    connection.sendall(b"a")

    sender = threading.Thread(target=trickle, name="slow-clients", daemon=True)
    sender.start()
    try:
        yield len(sockets)
    finally:
        stop.set()
        sender.join(10)
        for connection in sockets:
            connection.close()
