"""The worker: claims due jobs, runs their handlers, flushes the outbox, reports a heartbeat."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from adapters.errors import Blocked, RateLimited
from adapters.storage.audit import write_audit
from adapters.storage.outbox import OutboxItem, claim_writes, mark_dead, mark_retry, mark_sent
from adapters.storage.queue import Job, LeaseLost, claim_jobs, reschedule, retry_or_fail
from adapters.storage.sql import upsert
from adapters.storage.tables import heartbeats
from core.ports import BatchReader, Reconcilable, WriteKind, WriteResult, WriteStatus
from webhook_app.backoff import backoff_delay
from webhook_app.handoffs import after_days_job, return_job, sla_job, stage_job
from webhook_app.jobs import JobContext, decide_lead, handle_event
from webhook_app.reconcile import ensure_reconcile_job, reconcile

log = logging.getLogger("leadrouter.worker")
NEEDS_LEAD = ("lead", "event", "stage", "after_days", "sla", "return")


def _needs_lead(job: Job) -> bool:
    """Whether the job's handler will read the lead (an event that carries its state will not)."""
    return job.kind in NEEDS_LEAD and not (job.kind == "event" and "stage_id" in job.payload)


HANDLERS: dict[str, Callable[[JobContext, Job], None]] = {
    "lead": decide_lead,
    "event": handle_event,
    "reconcile": reconcile,
    "stage": stage_job,
    "after_days": after_days_job,
    "sla": sla_job,
    "return": return_job,
}


@dataclass
class WorkerOptions:
    """Tunables with safe defaults."""

    lease: timedelta = timedelta(seconds=60)
    claim_batch: int = 50  # at least a CRM batch (Bitrix24: 50), so reads and writes fill batches
    max_job_attempts: int = 8
    max_write_attempts: int = 8
    idle_sleep: float = 0.5


@dataclass
class Worker:
    """One worker loop; several may run against the same database."""

    ctx: JobContext
    options: WorkerOptions = field(default_factory=WorkerOptions)
    rng: random.Random = field(default_factory=random.Random)

    def run_once(self) -> int:
        """Process every due job once and flush the outbox; returns how much work was done."""
        now = self.ctx.clock()
        claimed = claim_jobs(
            self.ctx.engine, self.ctx.worker, now, self.options.lease, self.options.claim_batch
        )
        self._prefetch(claimed)
        for job in claimed:
            self._run(job)
        self.ctx.prefetched = {}
        written = self.flush()
        self._heartbeat()
        return len(claimed) + written

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set, resting when there is nothing to do."""
        if isinstance(self.ctx.crm, Reconcilable):
            with self.ctx.engine.begin() as connection:
                ensure_reconcile_job(connection, self.ctx.crm.name, self.ctx.clock())
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a database hiccup must not kill the loop; it is logged and retried
                log.exception("worker iteration failed")
                busy = 0
            if not busy:
                stop.wait(self.options.idle_sleep)

    def _prefetch(self, claimed: list[Job]) -> None:
        """One batched read for every claimed job that needs its lead (Bitrix24: 50 per request).
        Read after the claim, so the data is at least as new as the events that made the jobs."""
        if not isinstance(self.ctx.crm, BatchReader):
            return
        ids = [job.lead_id for job in claimed if job.lead_id and _needs_lead(job)]
        if not ids:
            return
        try:
            self.ctx.prefetched = self.ctx.crm.fetch_leads(ids)
        except Exception:  # the handlers then read one by one, failing and retrying as usual
            log.warning("batched prefetch failed; reading leads one by one", exc_info=True)
            self.ctx.prefetched = {}

    def _run(self, job: Job) -> None:
        handler = HANDLERS.get(job.kind)
        self.ctx.handoffs.clear()
        try:
            if handler is None:
                raise ValueError(f"unknown job kind {job.kind!r}")
            handler(self.ctx, job)
        except LeaseLost:
            log.warning("job %s: lease lost, another worker has it", job.id)
        except Exception as exc:  # the job is retried with backoff, then marked failed — never lost
            self._failed(job, exc)
        else:
            # Counted only now: a job whose transaction rolled back will hand the deal over again.
            for kind, outcome in self.ctx.handoffs:
                self.ctx.on_handoff(kind, outcome)
        finally:
            self.ctx.handoffs.clear()

    def _failed(self, job: Job, exc: Exception) -> None:
        now = self.ctx.clock()
        if isinstance(exc, RateLimited | Blocked):
            # The CRM asked us to wait (or banned us for a while): not the job's fault, so no
            # attempt is spent — a 15-minute ban must not mark a burst of leads failed.
            wait = timedelta(seconds=getattr(exc, "retry_after", None) or 60)
            try:
                with self.ctx.engine.begin() as connection:
                    reschedule(connection, job, self.ctx.worker, now, now + wait)
            except LeaseLost:
                pass
            return
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job %s (%s) failed: %s", job.id, job.kind, error)
        delay = backoff_delay(job.attempts, self.rng)
        try:
            with self.ctx.engine.begin() as connection:
                retried = retry_or_fail(
                    connection,
                    job,
                    self.ctx.worker,
                    now,
                    error,
                    delay=delay,
                    max_attempts=self.options.max_job_attempts,
                )
                kind = "job_retry" if retried else "job_failed"
                detail = {"job": job.id, "kind": job.kind}
                write_audit(connection, kind, error, at=now, crm=job.crm, lead_id=job.lead_id, detail=detail)
        except LeaseLost:
            pass

    def flush(self) -> int:
        """Send due CRM writes in batches, kind by kind; returns how many were attempted."""
        crm = self.ctx.crm
        total = 0
        for kind in WriteKind:
            now = self.ctx.clock()
            items = claim_writes(
                self.ctx.engine, crm.name, kind, now, self.options.lease, crm.batch_size(kind)
            )
            if not items:
                continue
            total += len(items)
            try:
                results = crm.write([item.write for item in items])
            except Exception as exc:  # an adapter bug must not lose writes: treat as transient
                log.exception("CRM write batch raised")
                results = [WriteResult(WriteStatus.TRANSIENT, f"{type(exc).__name__}: {exc}")] * len(items)
            self._record(items, results)
        return total

    def _record(self, items: list[OutboxItem], results: list[WriteResult]) -> None:
        now = self.ctx.clock()
        with self.ctx.engine.begin() as connection:
            for item, result in zip(items, results, strict=True):
                kind, message = self._settle(connection, item, result, now)
                self.ctx.on_write(item.write.kind.value, kind)
                detail = {
                    "write": item.write.kind.value,
                    "attempt": item.attempts,
                    "outbox": item.id,
                    "error": result.error,
                    **result.detail,
                }
                write_audit(
                    connection, kind, message, at=now, crm=item.crm, lead_id=item.lead_id, detail=detail
                )

    def _settle(
        self, connection: Connection, item: OutboxItem, result: WriteResult, now: datetime
    ) -> tuple[str, str]:
        what = item.write.kind.value
        if result.status is WriteStatus.OK:
            mark_sent(connection, item, now)
            return "crm_write", f"{what} written"
        if result.status is WriteStatus.TRANSIENT and item.attempts < self.options.max_write_attempts:
            delay = backoff_delay(item.attempts, self.rng, retry_after=result.retry_after)
            mark_retry(connection, item, now + delay, result.error)
            return "crm_retry", f"{what} failed, retry in {delay.total_seconds():.0f}s: {result.error}"
        mark_dead(connection, item, result.error)
        return "dead_letter", f"{what} refused: {result.error}"

    def _heartbeat(self) -> None:
        with self.ctx.engine.begin() as connection:
            connection.execute(
                upsert(connection, heartbeats, ["worker"], worker=self.ctx.worker, seen_at=self.ctx.clock())
            )
