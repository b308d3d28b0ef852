"""The asyncio front runs the process's shutdown callback (serve: finish the worker's pass) when the
server stops — after uvicorn's lifespan shutdown it re-raises SIGTERM, so no `atexit` would run."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from webhook_app.web.front import WholeRequests


async def _never(scope, receive, send) -> None:  # the app behind must not see lifespan messages
    raise AssertionError("lifespan reached the app")


def test_lifespan_startup_completes_and_shutdown_runs_the_callback_first():
    calls: list[str] = []
    sent: list[str] = []
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive():
        return inbox.pop(0)

    async def send(message):
        sent.append(message["type"])

    front = WholeRequests(_never, 1024, on_shutdown=lambda: calls.append(f"shutdown after {sent}"))
    _run(front({"type": "lifespan"}, receive, send))
    assert calls == ["shutdown after ['lifespan.startup.complete']"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def _run(coroutine: Any) -> None:
    """Run the ASGI call on a loop of its own thread: the browser tests' Playwright keeps an event loop
    running on the main thread when they ran first, where asyncio.run() refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()
