"""Account webhooks as amoCRM sends them (§1.1, §1.5, §8.1–3): form-encoded v2 payloads, a 2 s
timeout, 100–299 = delivered, retries after 5 min, 15 min (any failure), 15 min and 1 h (499/5xx
only) in emulated time, auto-disable after more than 100 invalid answers within 2 hours (and the
latest one invalid). A disabled (or deleted) hook gets nothing more — neither new events nor the
retries still queued — until it is subscribed again (POST /api/v4/webhooks upserts and re-enables);
its invalid answers stay counted, so within the 2 hours one more failure switches it off again.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import httpx

from sandbox.amocrm.guard import Faults
from sandbox.amocrm.payload import lead_payload, urlencode
from sandbox.amocrm.state import Account

HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "amoCRM-WebHook-client/1.0"}
RETRIES = {2: (300, False), 3: (900, False), 4: (900, True), 5: (3600, True)}  # attempt → (delay, 5xx only)


@dataclass(frozen=True)
class Delivery:
    """One webhook POST: where, which action, which leads, the answer (None = no answer, -1 = dropped)."""

    destination: str
    action: str
    lead_ids: tuple[int, ...]
    status: int | None
    attempt: int


@dataclass(frozen=True)
class _Post:
    destination: str
    action: str
    leads: tuple[dict[str, Any], ...]
    attempt: int = 1
    once: bool = False  # a Digital Pipeline webhook: not an account hook, sent once (§1.8)


class HookSender:
    """Queues webhook POSTs and sends them from a few threads, as amoCRM's senders would."""

    def __init__(self, account: Account, faults: Faults, *, threads: int = 4, per_post: int = 50) -> None:
        self.account, self.faults, self.per_post = account, faults, per_post
        self.deliveries: list[Delivery] = []
        self.retries: list[tuple[float, _Post]] = []
        self.withheld = 0  # POSTs not sent because their hook is disabled (or was deleted meanwhile)
        self._queue: queue.Queue[_Post | None] = queue.Queue()
        self._http = httpx.Client(timeout=2.0, headers=HEADERS)
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def emit(self, action: str, leads: list[dict[str, Any]]) -> None:
        """Send `leads[<action>]` to every enabled hook subscribed to `<action>_lead` (§1.2)."""
        with self.account.lock:
            subscribed = [h for h in self.account.webhooks.values() if f"{action}_lead" in h.settings]
            hooks = [h for h in subscribed if not h.disabled]
        posts = -(-len(leads) // self.per_post)
        with self._lock:
            self.withheld += posts * (len(subscribed) - len(hooks))
        for hook in hooks:
            for start in range(0, len(leads), self.per_post):
                self._queue.put(_Post(hook.destination, action, tuple(leads[start : start + self.per_post])))

    def send_once(self, destination: str, action: str, leads: list[dict[str, Any]]) -> None:
        """A Digital Pipeline webhook (§1.8): sent once, never retried, whatever the answer."""
        self._queue.put(_Post(destination, action, tuple(leads), attempt=len(RETRIES) + 1, once=True))

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every queued POST was sent; False on timeout."""
        done = threading.Event()

        def drained() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=drained, daemon=True).start()
        return done.wait(timeout)

    def due_retries(self) -> None:
        """Queue the retries whose time has come in emulated time (call after `Clock.advance`)."""
        now = self.account.clock.now()
        with self._lock:
            due = [post for at, post in self.retries if at <= now]
            self.retries = [(at, post) for at, post in self.retries if at > now]
        for post in due:
            self._queue.put(post)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        self._http.close()

    def _run(self) -> None:
        while True:
            post = self._queue.get()
            try:
                if post is None:
                    return
                self._deliver(post)
            finally:
                self._queue.task_done()

    def _deliver(self, post: _Post) -> None:
        if not post.once and not self._enabled(post.destination):
            with self._lock:
                self.withheld += 1
            return
        ids = tuple(int(lead["id"]) for lead in post.leads)
        if self.faults.roll(self.faults.drop_hooks):
            self._record(Delivery(post.destination, post.action, ids, -1, post.attempt))
            return
        if self.faults.hook_delay:
            time.sleep(self.faults.hook_delay)
        account = self.account
        pairs = lead_payload(post.action, post.leads, account_id=str(account.id), subdomain=account.subdomain)
        body = urlencode(pairs)
        for _ in range(2 if self.faults.roll(self.faults.duplicate_hooks) else 1):
            status = self._post(post.destination, body)
            self._record(Delivery(post.destination, post.action, ids, status, post.attempt))
        if status is None or not 100 <= status <= 299:
            self._failed(post, status)

    def _enabled(self, destination: str) -> bool:
        with self.account.lock:
            hook = self.account.webhooks.get(destination)
            return hook is not None and not hook.disabled

    def _post(self, destination: str, body: str) -> int | None:
        try:
            return self._http.post(destination, content=body).status_code
        except httpx.HTTPError:
            return None  # no answer within 2 s, or no connection: "0–99" in §1.5's table

    def _failed(self, post: _Post, status: int | None) -> None:
        now = self.account.clock.now()
        with self.account.lock:
            hook = self.account.webhooks.get(post.destination)
            if hook is not None:
                hook.invalid = [t for t in hook.invalid if t > now - 7200] + [now]
                hook.disabled = hook.disabled or len(hook.invalid) > 100
        retry = RETRIES.get(post.attempt + 1)
        server_error = status is not None and (status == 499 or 500 <= status <= 599)
        if retry is not None and (server_error or not retry[1]):
            with self._lock:
                self.retries.append((now + retry[0], replace(post, attempt=post.attempt + 1)))

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)
