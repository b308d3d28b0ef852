"""Outbound events of the emulated portal: POSTed as the real form (bitrix24.md §1.2, §9.1–9.4).

Delivered from a queue by a few threads, never retried (§1.6); faults on demand: delay, dropped
events, duplicates, and robot-made changes whose events carry no tokens (§1.2).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import httpx

from sandbox.amocrm.payload import urlencode
from sandbox.bitrix24.payload import bitrix24_event_payload
from sandbox.bitrix24.portal import Portal


@dataclass
class Delivery:
    """One POST made (or dropped)."""

    event: str
    entity_id: str
    url: str
    kind: str
    with_tokens: bool
    status: int | None = None  # None: dropped, or the handler could not be reached


@dataclass
class EventFaults:
    """What goes wrong with deliveries."""

    delay: float = 0.0
    drop_next: int = 0
    drop_all: bool = False
    duplicate_next: int = 0
    app_active: bool = True  # §1.2/§9.3: an inactive or unpaid app gets no events


@dataclass
class Outbox:
    """The portal's event queue and its delivery threads."""

    portal: Portal
    threads: int = 4
    faults: EventFaults = field(default_factory=EventFaults)
    deliveries: list[Delivery] = field(default_factory=list)
    _queue: queue.Queue[Delivery | None] = field(default_factory=queue.Queue)
    _pending: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Start the delivery threads."""
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, name=f"b24-events-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        """Stop them (pending events are dropped)."""
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=5)

    def emit(self, event: str, entity_id: str) -> None:
        """Queue the event for every subscription to it."""
        for handler in [h for h in self.portal.handlers if h.event == event]:
            if handler.kind == "app" and not self.faults.app_active:
                continue
            tokens = handler.kind == "app" and not self.portal.robot
            delivery = Delivery(event, entity_id, handler.url, handler.kind, tokens)
            copies = 1
            if self.faults.drop_all or self.faults.drop_next > 0:
                self.faults.drop_next = max(0, self.faults.drop_next - 1)
                self.deliveries.append(delivery)
                continue
            if self.faults.duplicate_next > 0:
                self.faults.duplicate_next -= 1
                copies = 2
            for _ in range(copies):
                self._enqueue(Delivery(event, entity_id, handler.url, handler.kind, tokens))

    def _enqueue(self, delivery: Delivery) -> None:
        with self._cond:
            self._pending += 1
        self._queue.put(delivery)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued event was POSTed; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        # A new connection per event, as Bitrix24's queue server makes: a reused keep-alive connection
        # that our server closed after its idle timeout would make a POST fail, and Bitrix24 never
        # resends — the emulator would lose an event the real portal delivers.
        no_reuse = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(timeout=10.0, limits=no_reuse) as http:
            while (delivery := self._queue.get()) is not None:
                try:
                    self._post(http, delivery)
                finally:
                    with self._cond:
                        self._pending -= 1
                        self._cond.notify_all()

    def _post(self, http: httpx.Client, delivery: Delivery) -> None:
        if self.faults.delay:
            time.sleep(self.faults.delay)
        handler = next((h for h in self.portal.handlers if h.url == delivery.url), None)
        token = handler.token if handler else ""
        pairs = bitrix24_event_payload(
            delivery.event,
            delivery.entity_id,
            application_token=token,
            domain=self.portal.domain,
            member_id=self.portal.member_id,
            with_tokens=delivery.with_tokens,
            ts=int(self.portal.clock()),
            handler_id=str(handler.id) if handler else None,
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            delivery.status = http.post(delivery.url, content=urlencode(pairs), headers=headers).status_code
        except httpx.HTTPError:
            delivery.status = None  # §1.6: logged by the queue server, never resent
        self.deliveries.append(delivery)
