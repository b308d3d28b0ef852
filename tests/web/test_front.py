"""The asyncio front: the Flask app sees only whole requests; the access log never shows the secret."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from webhook_app.web.front import RedactedAccessLog, WholeRequests

CAP = 10


class Recorder:
    """An ASGI app that notes what it was given (the scope's headers and the body it read)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[bytes, bytes], bytes]] = []

    async def __call__(self, scope, receive, send) -> None:
        message = await receive()
        self.calls.append((dict(scope["headers"]), message["body"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def run(
    messages: list[dict], headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[Recorder, list[dict]]:
    """Feed the front one request's messages; what the app got, and what went out."""
    app, sent = Recorder(), []
    pending = list(messages)

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers or []}
    # In a thread of its own: another test's event loop may still run in this one (playwright's).
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, WholeRequests(app, CAP)(scope, receive, send)).result()
    return app, sent


def part(body: bytes, more: bool = True) -> dict:
    return {"type": "http.request", "body": body, "more_body": more}


def test_a_body_in_pieces_reaches_the_app_whole_with_its_length():
    chunked = [(b"transfer-encoding", b"chunked")]
    app, sent = run([part(b"ab"), part(b"cd"), part(b"e", more=False)], chunked)
    [(headers, body)] = app.calls
    assert body == b"abcde" and headers[b"content-length"] == b"5" and b"transfer-encoding" not in headers
    assert sent[0]["status"] == 200


def test_a_body_past_the_cap_is_413_and_the_app_never_runs():
    app, sent = run([part(b"x" * 6), part(b"x" * 5, more=False)])
    assert app.calls == [] and sent[0]["status"] == 413


def test_a_declared_length_past_the_cap_is_413_before_reading():
    app, sent = run([part(b"x", more=False)], [(b"content-length", b"11")])
    assert app.calls == [] and sent[0]["status"] == 413


def test_a_client_that_leaves_mid_body_never_reaches_the_app():
    app, sent = run([part(b"abc")])  # then a disconnect
    assert app.calls == [] and sent == []


def test_the_access_log_masks_the_webhook_secret():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", "/hooks/amocrm/s3cr3t?x=1", "1.1", 200), None,
    )  # fmt: skip
    assert RedactedAccessLog().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "POST /hooks/amocrm/***?x=1 HTTP/1.1" 200'
