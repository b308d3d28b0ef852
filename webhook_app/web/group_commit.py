"""Group commit for the intake: concurrent webhook requests share one transaction.

Every request still waits until its events are committed (nothing is acknowledged before it is
on disk), but a burst of requests pays for one commit and one fsync instead of one each — and on
SQLite, where writers queue for a single lock anyway, batching is what keeps the tail short.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from adapters.storage.intake import IncomingEvent, store_events, store_groups

log = logging.getLogger("leadrouter.intake")


@dataclass
class _Request:
    events: Sequence[IncomingEvent]
    done: threading.Event = field(default_factory=threading.Event)
    result: list[bool] | None = None
    error: BaseException | None = None


class IntakeBatcher:
    """Stores events for many request threads through one committing thread."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], *, max_batch: int = 256) -> None:
        self.engine, self.clock, self.max_batch = engine, clock, max_batch
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._owner_pid: int | None = None

    def store(self, events: Sequence[IncomingEvent]) -> list[bool]:
        """Block until the events are committed; False marks a duplicate (as `store_events`)."""
        self._ensure_thread()
        request = _Request(events)
        self._queue.put(request)
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _ensure_thread(self) -> None:
        # Started lazily and per process: a thread does not survive gunicorn's fork.
        if self._owner_pid == os.getpid():
            return
        with self._lock:
            if self._owner_pid != os.getpid():
                threading.Thread(target=self._run, name="leadrouter-intake", daemon=True).start()
                self._owner_pid = os.getpid()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Request]) -> None:
        now = self.clock()
        try:
            results = store_groups(self.engine, [r.events for r in batch], now)
            for request, result in zip(batch, results, strict=True):
                request.result = result
        except Exception:  # one bad request must not fail its neighbours: retry each on its own
            log.exception("group commit failed; storing %d requests one by one", len(batch))
            for request in batch:
                try:
                    request.result = store_events(self.engine, request.events, now)
                except Exception as exc:
                    request.error = exc
        for request in batch:
            request.done.set()
