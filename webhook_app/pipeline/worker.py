"""The worker: claims due jobs, runs their handlers, flushes the outbox, reports a heartbeat."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.errors import Blocked, RateLimited
from adapters.storage.audit import write_audit
from adapters.storage.heartbeats import record_heartbeat
from adapters.storage.queue import Job, LeaseLost, claim_jobs, reschedule, retry_or_fail
from core.kinds import AuditKind, JobKind
from core.ports import BatchReader, Reconcilable
from webhook_app.pipeline.backoff import backoff_delay
from webhook_app.pipeline.batch_jobs import batchable, prepare, settle
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.flusher import Flusher
from webhook_app.pipeline.handoffs import after_days_job, return_job, sla_job, stage_job
from webhook_app.pipeline.jobs import decide_lead, handle_event
from webhook_app.pipeline.pacing import Pacing
from webhook_app.pipeline.reconcile import ensure_reconcile_job, reconcile

log = logging.getLogger("leadrouter.worker")
NEEDS_LEAD = (JobKind.LEAD, JobKind.EVENT, JobKind.STAGE, JobKind.AFTER_DAYS, JobKind.SLA, JobKind.RETURN)


def _needs_lead(job: Job) -> bool:
    """Whether the job's handler will read the lead (an event that carries its state will not)."""
    return job.kind in NEEDS_LEAD and not (job.kind == JobKind.EVENT and "stage_id" in job.payload)


HANDLERS: dict[str, Callable[[JobContext, Job], None]] = {
    JobKind.LEAD: decide_lead,
    JobKind.EVENT: handle_event,
    JobKind.RECONCILE: reconcile,
    JobKind.STAGE: stage_job,
    JobKind.AFTER_DAYS: after_days_job,
    JobKind.SLA: sla_job,
    JobKind.RETURN: return_job,
}


@dataclass
class WorkerOptions:
    """Tunables with safe defaults."""

    lease: timedelta = timedelta(seconds=60)
    claim_batch: int = 50  # leads per pass: at least a CRM batch (Bitrix24: 50), so batches fill
    read_batch: int = 0  # leads per batched CRM read (see pacing.py); 0: the CRM reads one by one
    max_job_attempts: int = 8
    max_write_attempts: int = 8
    idle_sleep: float = 0.5
    hold: float = 1.0  # seconds a part-filled read or write batch may wait for the burst to fill it


@dataclass
class Worker:
    """One worker loop; several may run against the same database."""

    ctx: JobContext
    options: WorkerOptions = field(default_factory=WorkerOptions)
    rng: random.Random = field(default_factory=random.Random)
    pacing: Pacing = field(init=False)
    flusher: Flusher = field(init=False)
    maintenance: Callable[[datetime], None] | None = None  # periodic housekeeping (retention)
    _burst: bool = field(default=False, init=False)  # the last claim found a burst of new leads

    def __post_init__(self) -> None:
        options = self.options
        hold = timedelta(seconds=options.hold)
        self.pacing = Pacing(options.claim_batch, options.read_batch, hold)
        self.flusher = Flusher(self.ctx, options.lease, options.max_write_attempts, self.rng, options.hold)

    def run_once(self) -> int:
        """Process every due job once and flush the outbox; returns how much work was done."""
        done = self.process()
        written = self.flush()
        self._heartbeat()
        return done + written

    def process(self) -> int:
        """Claim due jobs and run them (in batches where possible); returns how many were claimed."""
        now = self.ctx.clock()

        def cut(due: list[Job]) -> int:
            take, self._burst = self.pacing.cut(due, now, _needs_lead)
            return take

        self._burst = False
        claimed = claim_jobs(
            self.ctx.engine, self.ctx.worker, now, self.options.lease, self.pacing.window, cut=cut
        )
        self._prefetch(claimed)
        self._handle(claimed)
        self.ctx.prefetched = {}
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set, resting when there is nothing to do. The outbox is sent by a
        thread of its own meanwhile, so CRM writes overlap the next jobs' reads and decisions."""
        if isinstance(self.ctx.crm, Reconcilable):
            with self.ctx.engine.begin() as connection:
                ensure_reconcile_job(connection, self.ctx.crm.name, self.ctx.clock())
        sender = threading.Thread(
            target=self.flusher.loop,
            args=(stop, self.options.idle_sleep),
            name="leadrouter-outbox",
            daemon=True,
        )
        sender.start()
        try:
            while not stop.is_set():
                try:
                    busy = self.process()
                    self._heartbeat()
                    if self.maintenance is not None:
                        self.maintenance(self.ctx.clock())
                except Exception:  # a database hiccup must not kill the loop; it is logged and retried
                    log.exception("worker iteration failed")
                    busy = 0
                if busy:
                    self.flusher.wake.set()
                else:  # in a burst, leads held back for a whole read are due again soon
                    stop.wait(min(0.1, self.options.idle_sleep) if self._burst else self.options.idle_sleep)
        finally:
            self.flusher.wake.set()
            sender.join(timeout=60)

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

    def _handle(self, claimed: list[Job]) -> None:
        """Runs of consecutive lead and event jobs go in one batch each; the rest one by one, in
        claim order, so decisions come in exactly the order one job at a time would make them."""
        run: list[Job] = []
        for job in claimed:
            if batchable(job):
                run.append(job)
                continue
            self._batch(run)
            run = []
            self._run(job)
        self._batch(run)

    def _batch(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        prepared = prepare(self.ctx, jobs)
        for job, error in prepared.failed:
            self._failed(job, error)
        try:
            failed = settle(self.ctx, prepared)
        except Exception as exc:  # rolled back whole: each job on its own, with its own error handling
            lost = isinstance(exc, LeaseLost)
            log.log(
                logging.INFO if lost else logging.WARNING, "batch of %d jobs: %s; one by one", len(jobs), exc
            )
            prepared.restore(self.ctx)
            for job in prepared.jobs:
                self._run(job)
            return
        for job, error in failed:
            self._failed(job, error)

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
                kind = AuditKind.JOB_RETRY if retried else AuditKind.JOB_FAILED
                detail = {"job": job.id, "kind": job.kind}
                write_audit(connection, kind, error, at=now, crm=job.crm, lead_id=job.lead_id, detail=detail)
        except LeaseLost:
            pass

    def flush(self) -> int:
        """Send every due CRM write now, in batches, kind by kind; returns how many were attempted."""
        return self.flusher.flush()

    def _heartbeat(self) -> None:
        with self.ctx.engine.begin() as connection:
            record_heartbeat(connection, self.ctx.worker, self.ctx.clock())
