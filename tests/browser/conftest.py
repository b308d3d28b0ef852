"""Browser tests: Debian's Chromium, driven by Playwright, against the real app on a real socket.

Each view's scenarios live in `test_<view>.py` (login, today, decisions, deadletters, config; the
what-if view's go in `test_whatif.py` with the same fixtures). Every test skips, with the reason,
when Chromium or the playwright package is missing. Screenshots of each view are written to
`$LEADROUTER_ARTIFACTS/screenshots` (default `artifacts/` at the repository root).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.web.conftest import SECRET, Stack, make_stack
from tests.web.test_hooks import amo_add, seed

CHROMIUM = Path(os.environ.get("LEADROUTER_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
TOKEN = "adm-Br0wser-7xQ"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
REPO = Path(__file__).resolve().parents[2]

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # the dev extras not installed: the `browser` fixture skips every test
    Browser = Page = expect = sync_playwright = None  # type: ignore[assignment,misc]


def _missing() -> str | None:
    if sync_playwright is None:
        return "playwright not installed: pip install -e '.[dev]'"
    if not CHROMIUM.exists():
        return f"Chromium not installed ({CHROMIUM} is missing): apt-get install chromium"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session (the system's: `playwright install` cannot fetch one)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    # Pages render on the server at once; the margin is for a loaded CI machine, not for waiting.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless=new"]
        )
        yield launched
        launched.close()


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # the test output is for failures, not access lines


@dataclass
class Served:
    """The app of `make_stack` on http://127.0.0.1:PORT, with its fake CRM and worker."""

    stack: Stack
    url: str

    def post_leads(self, *ids: str) -> None:
        """New leads through the amoCRM hook over HTTP, then one worker pass decides them."""
        seed(self.stack, *ids)
        response = httpx.post(
            f"{self.url}/hooks/amocrm/{SECRET}",
            content=amo_add(*ids),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200, response.text
        self.stack.worker.run_once()


@contextmanager
def serving(stack: Stack) -> Iterator[Served]:
    """The stack's app served by werkzeug in a background thread, until the block ends."""
    server = make_server("127.0.0.1", 0, stack.client.application, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(stack, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def served(tmp_path, browser) -> Iterator[Served]:
    """A fresh app and database per test (the small config of tests/web), served over HTTP."""
    with serving(make_stack(tmp_path, admin_token=TOKEN)) as served:
        yield served


@pytest.fixture
def page(browser, served) -> Iterator[Page]:
    """A laptop-sized tab of its own (cookies included)."""
    context = browser.new_context(viewport=LAPTOP, locale="ru-RU")
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page: Page, served: Served) -> None:
    """Through the form, as a person does; lands on Today."""
    page.goto(f"{served.url}/admin")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    expect(page.locator("header a.on")).to_have_text("Сегодня")


def screenshot(page: Page, name: str) -> Path:
    """The whole page as `screenshots/NAME.png` under the run's artifacts directory."""
    folder = Path(os.environ.get("LEADROUTER_ARTIFACTS", REPO / "artifacts")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
