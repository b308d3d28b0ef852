"""The asyncio front of `serve` and `web`: uvicorn in gunicorn's worker processes, whole requests only
handed to the Flask app.

gunicorn's threaded workers give a connection a thread from its first byte to its answer, so eight
clients sending their headers or body slowly (no secret needed) held all eight threads and stopped
the intake. Here uvicorn reads every connection in one event loop, where a slow one costs a socket
and a coroutine; a request's body is read there in full — one byte past the 1 MiB cap at most, then
413 — and only a complete request reaches the Flask app, run in a pool of `--threads` threads by
a2wsgi. gunicorn's master stays (`--workers`, graceful SIGTERM, the SIGHUP reload of `server`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware
from flask import Flask
from uvicorn_worker import UvicornWorker

from webhook_app.web.redact import redact_path

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
TOO_LARGE = json.dumps({"error": "The data value transmitted exceeds the capacity limit."}).encode()


def asgi_front(
    app: Flask, *, threads: int, max_body: int, on_shutdown: Callable[[], None] | None = None
) -> AsgiApp:
    """The Flask app behind whole-request buffering, in a pool of `threads` threads; `on_shutdown`
    runs when the server stops, after the last request was answered."""
    return WholeRequests(WSGIMiddleware(app, workers=threads), max_body, on_shutdown)  # type: ignore[arg-type]


class WholeRequests:
    """Reads each request's body to its end in the event loop, then hands the app the whole request."""

    def __init__(self, app: AsgiApp, max_body: int, on_shutdown: Callable[[], None] | None = None) -> None:
        self.app, self.max_body, self.on_shutdown = app, max_body, on_shutdown

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        """Buffer an HTTP request's body (413 past the cap); pass anything else straight through."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await _too_large(send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its request was complete: nothing to answer
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await _too_large(send)
                return
            if not message.get("more_body", False):
                break
        await self.app(_whole(scope, len(body)), _replay(bytes(body), receive), send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """ASGI lifespan: nothing to start; at shutdown (SIGTERM, once in-flight requests are answered)
        `on_shutdown` runs — the last chance: uvicorn then re-raises the signal, and the process dies
        without running `atexit` or `finally` blocks."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await asyncio.to_thread(self.on_shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _whole(scope: MutableMapping[str, Any], length: int) -> MutableMapping[str, Any]:
    """The scope of a plain request of `length` bytes (a chunked one is whole now)."""
    headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"transfer-encoding")]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body as one message, then the connection's own (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again


async def _too_large(send: Send) -> None:
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": TOO_LARGE})


class RedactedAccessLog(logging.Filter):
    """Masks the webhook secret in uvicorn's access-log lines (their path argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact, never drop."""
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        return True


class FrontWorker(UvicornWorker):  # type: ignore[misc]
    """gunicorn's worker process running uvicorn (h11, asyncio) with the redacted access log.

    h11 holds at most 16 KiB of an unfinished request head (then 400 and the connection closes), so
    a slow or endless head costs little memory; httptools would parse in C but buffers any size.

    `X-Forwarded-For` is left alone here: only the admin throttle reads it, and only from
    `LEADROUTER_TRUSTED_PROXIES`.
    """

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012 — uvicorn_worker's own class attribute
        "loop": "asyncio",
        "http": "h11",
        "proxy_headers": False,
        "server_header": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        access = logging.getLogger("uvicorn.access")
        if not any(isinstance(f, RedactedAccessLog) for f in access.filters):
            access.addFilter(RedactedAccessLog())
