"""Sending the outbox: due CRM writes in batches, kind by kind, results recorded in bulk.

`Worker.run` runs this in a thread of its own beside the job loop, so the CRM is kept busy: the
writes of one batch of decisions go out while the next batch's leads are read and decided, both
under the shared rate gate. While new leads are due or being decided (by this worker or another),
a part-filled batch is held back for up to `hold` seconds, since their writes will fill it: at
amoCRM's 7 requests a second every request saved is 1/7 s.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from adapters.storage.audit import audit_row, write_audit_rows
from adapters.storage.outbox import (
    OutboxItem,
    claim_writes,
    mark_cancelled,
    mark_dead,
    mark_retry,
    mark_sent_many,
)
from adapters.storage.queue import enqueue, leads_in_flight
from core.kinds import AuditKind, JobKind
from core.ports import WriteChecker, WriteKind, WriteResult, WriteStatus
from webhook_app.pipeline.backoff import backoff_delay
from webhook_app.pipeline.context import JobContext

log = logging.getLogger("leadrouter.worker")


@dataclass
class Flusher:
    """Sends due writes through the CRM port and settles them: sent, retried later, or dead."""

    ctx: JobContext
    lease: timedelta
    max_attempts: int
    rng: random.Random
    hold: float = 1.0
    wake: threading.Event = field(default_factory=threading.Event)
    outage_cap: float = (
        60.0  # seconds: past `max_attempts`, a write the CRM could not take retries this often
    )
    on_answer: Callable[[], None] = lambda: None  # the CRM took a write: an outage, if any, is over
    on_outage: Callable[[str], None] = lambda error: None  # a whole batch failed for the CRM's reasons

    def flush(self, *, partial: bool = True) -> int:
        """Send due writes in batches, kind by kind; returns how many were attempted. With
        `partial=False` a kind goes only when a whole batch of it is due."""
        crm = self.ctx.crm
        total = 0
        for kind in WriteKind:
            size = crm.batch_size(kind)
            items = claim_writes(
                self.ctx.engine,
                crm.name,
                kind,
                self.ctx.clock(),
                self.lease,
                size,
                minimum=1 if partial else size,
            )
            if not items:
                continue
            total += len(items)
            items = self._not_landed(kind, items)
            if not items:
                continue
            try:
                results = crm.write([item.write for item in items])
            except Exception as exc:  # an adapter bug must not lose writes: treat as transient
                log.exception("CRM write batch raised")
                results = [WriteResult(WriteStatus.TRANSIENT, f"{type(exc).__name__}: {exc}")] * len(items)
            self._record(items, results)
            if any(r.status is WriteStatus.OK for r in results):
                self.on_answer()
            elif all(r.status is WriteStatus.TRANSIENT for r in results):
                self.on_outage(results[0].error)
        return total

    def _not_landed(self, kind: WriteKind, items: list[OutboxItem]) -> list[OutboxItem]:
        """A task is not idempotent in the CRM: one tried before (a worker killed between the CRM's
        answer and our commit, a timeout) may be there already. Look for it rather than send it twice;
        the ones found are recorded as written. If the CRM cannot say, they wait (nothing is sent)."""
        crm = self.ctx.crm
        unsure = [item for item in items if item.attempts > 1]
        if kind is not WriteKind.TASK or not unsure or not isinstance(crm, WriteChecker):
            return items
        try:
            landed = crm.already_written([item.write for item in unsure])
        except Exception as exc:  # the CRM could not tell: retried later, like a failed send
            error = f"could not check whether it was written: {type(exc).__name__}: {exc}"
            self._record(unsure, [WriteResult(WriteStatus.TRANSIENT, error)] * len(unsure))
            return [item for item in items if item.attempts == 1]
        found = [item for item, there in zip(unsure, landed, strict=True) if there]
        if found:
            self._record(found, [WriteResult(WriteStatus.OK, detail={"landed": "before"})] * len(found))
            log.info("%d task(s) already in the CRM from an earlier attempt; not sent again", len(found))
        skip = {item.id for item in found}
        return [item for item in items if item.id not in skip]

    def loop(self, stop: threading.Event, idle: float) -> None:
        """Flush until `stop`; woken by the job loop when it has stored decisions."""
        held_since: float | None = None
        while not stop.is_set():
            self.wake.clear()
            try:
                held = held_since is not None and time.monotonic() - held_since < self.hold
                partial = not held and (held_since is not None or not self._filling())
                written = self.flush(partial=partial)
            except Exception:  # a database hiccup must not stop the sending; it is logged and retried
                log.exception("outbox flush failed")
                written, partial = 0, True
            if partial:
                held_since = None
            elif not written and held_since is None:
                held_since = time.monotonic()  # only part-filled batches are due: give them `hold`
            if not written:
                # While holding a part-filled batch, look again soon; otherwise rest until woken.
                self.wake.wait(0.1 if held_since is not None else idle)

    def _filling(self) -> bool:
        """Whether new leads are due or being decided (by any worker): their writes will fill a batch."""
        return leads_in_flight(self.ctx.engine, self.ctx.clock())

    def _record(self, items: list[OutboxItem], results: list[WriteResult]) -> None:
        now = self.ctx.clock()
        sent: list[OutboxItem] = []
        rows = []
        gone: set[tuple[str, str]] = set()
        with self.ctx.engine.begin() as connection:
            for item, result in zip(items, results, strict=True):
                if result.status is WriteStatus.GONE and (item.crm, item.lead_id) not in gone:
                    # The lead is deleted in the CRM: the worker records it so (the lifecycle closes
                    # it, its other pending work is cancelled), as the CRM's deletion webhook would.
                    gone.add((item.crm, item.lead_id))
                    payload = {"action": "delete", "source": "write"}
                    enqueue(connection, JobKind.EVENT, item.crm, item.lead_id, payload, now, now)
                extra: dict[str, int] = {}
                if result.status is WriteStatus.OK:  # the common case: one statement for all of them
                    sent.append(item)
                    what = item.write.kind.value
                    kind, message = AuditKind.CRM_WRITE, f"{what} written"
                    if result.detail.get("landed"):
                        message = f"{what} already in the CRM (an earlier attempt); not sent again"
                else:
                    kind, message, extra = self._settle(connection, item, result, now)
                self.ctx.on_write(item.write.kind.value, kind)
                detail = {
                    "write": item.write.kind.value,
                    "attempt": item.attempts,
                    "outbox": item.id,
                    "error": result.error,
                    **result.detail,
                }
                detail.update(extra)
                rows.append(
                    audit_row(kind, message, at=now, crm=item.crm, lead_id=item.lead_id, detail=detail)
                )
            mark_sent_many(connection, sent, now)
            write_audit_rows(connection, rows)

    def _settle(
        self, connection: Connection, item: OutboxItem, result: WriteResult, now: datetime
    ) -> tuple[AuditKind, str, dict[str, int]]:
        """How a failed write settles: the audit kind, its message, and data for its words."""
        what = item.write.kind.value
        if result.status is WriteStatus.TRANSIENT:
            # Never dead-lettered for the CRM's own failures: after `max_attempts` the write keeps
            # trying every `outage_cap` seconds, for as long as the CRM is down.
            cap = self.outage_cap if item.attempts >= self.max_attempts else 900.0
            delay = backoff_delay(item.attempts, self.rng, cap=cap, retry_after=result.retry_after)
            mark_retry(connection, item, now + delay, result.error)
            return (
                AuditKind.CRM_RETRY,
                f"{what} failed, retry in {delay.total_seconds():.0f}s: {result.error}",
                {"retry_in": round(delay.total_seconds())},
            )
        if result.status is WriteStatus.GONE:  # not a dead letter: there is nothing to replay it onto
            mark_cancelled(connection, item, result.error)
            return (
                AuditKind.WRITE_CANCELLED,
                f"{what} not written, the lead is gone from the CRM: {result.error}",
                {},
            )
        mark_dead(connection, item, result.error)
        return AuditKind.DEAD_LETTER, f"{what} refused: {result.error}", {}
