"""The worker: claims due jobs, runs their handlers, flushes the outbox, reports a heartbeat."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.errors import AuthError, Blocked, RateLimited, TransientCrmError
from adapters.storage.audit import write_audit
from adapters.storage.clockstep import claim_step, note_shifted
from adapters.storage.heartbeats import record_heartbeat
from adapters.storage.outage import mark_down, mark_up
from adapters.storage.queue import (
    Job,
    LeaseLost,
    claim_jobs,
    ensure_job,
    reschedule,
    retry_or_fail,
    shift_timers,
    wait_for_crm,
)
from core.kinds import AuditKind, JobKind
from core.ports import BatchReader, LoadReader, Reconcilable, TeamReader
from core.texts import texts
from webhook_app.clock import Elapsed, elapsed_of
from webhook_app.pipeline.backoff import backoff_delay
from webhook_app.pipeline.batch_jobs import batchable, prepare, settle
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.crm_load import refresh_load
from webhook_app.pipeline.flusher import Flusher
from webhook_app.pipeline.hookcheck import check_hook
from webhook_app.pipeline.jobs import decide_lead, handle_event, timer_job
from webhook_app.pipeline.pacing import Pacing
from webhook_app.pipeline.reconcile import ensure_reconcile_job, reconcile
from webhook_app.pipeline.team_sync import sync_team

log = logging.getLogger("leadrouter.worker")
NEEDS_LEAD = (
    JobKind.LEAD,
    JobKind.EVENT,
    JobKind.STAGE,
    JobKind.AFTER_DAYS,
    JobKind.SLA,
    JobKind.RETURN,
    JobKind.REROUTE,
)
_CALLS_CRM = (*NEEDS_LEAD, JobKind.RECONCILE, JobKind.HOOK_CHECK)
_PERIODIC = (JobKind.RECONCILE, JobKind.HOOK_CHECK)  # never given up: they wait out any error
_RECHECK = timedelta(seconds=10)  # how stale this worker's idea of "no outage recorded" may be
# Timers that measure a duration from an event (an SLA's minutes, N days in a stage): a clock set
# forward must not make them ring early. A return after an absence and a wait for the shift are
# moments of the calendar, and move with the clock.
DURATION_TIMERS = (JobKind.SLA, JobKind.AFTER_DAYS)


def _needs_lead(job: Job) -> bool:
    """Whether the job's handler will read the lead (an event that carries its state will not)."""
    return job.kind in NEEDS_LEAD and not (job.kind == JobKind.EVENT and "stage_id" in job.payload)


HANDLERS: dict[str, Callable[[JobContext, Job], None]] = {
    JobKind.LEAD: decide_lead,
    JobKind.EVENT: handle_event,
    JobKind.RECONCILE: reconcile,
    JobKind.STAGE: timer_job,  # queued by an earlier version: a stage move, run as an update
    JobKind.AFTER_DAYS: timer_job,
    JobKind.SLA: timer_job,
    JobKind.RETURN: timer_job,
    JobKind.REROUTE: timer_job,  # the CRM refused the owner we wrote: the lifecycle routes it again
    JobKind.TEAM_SYNC: sync_team,
    JobKind.CRM_LOAD: refresh_load,
    JobKind.HOOK_CHECK: check_hook,
}


@dataclass
class WorkerOptions:
    """Tunables with safe defaults."""

    lease: timedelta = timedelta(seconds=60)
    claim_batch: int = 50  # leads per pass: at least a CRM batch (Bitrix24: 50), so batches fill
    read_batch: int = 0  # leads per batched CRM read (see pacing.py); 0: the CRM reads one by one
    max_job_attempts: int = 8  # for errors that are not the CRM's: a bug, a broken payload
    outage_retry_cap: float = 60.0  # seconds: a job waiting out a CRM outage tries at least this often
    reconcile_check: float = 300.0  # seconds between checks that the periodic reconcile job exists
    max_write_attempts: int = 8
    idle_sleep: float = 0.5
    hold: float = 1.0  # seconds a part-filled read or write batch may wait for the burst to fill it
    clock_step: float = 60.0  # seconds the wall clock may run ahead of elapsed time before it is a step


@dataclass
class Worker:
    """One worker loop; several may run against the same database."""

    ctx: JobContext
    options: WorkerOptions = field(default_factory=WorkerOptions)
    rng: random.Random = field(default_factory=random.Random)
    pacing: Pacing = field(init=False)
    flusher: Flusher = field(init=False)
    maintenance: Callable[[datetime], None] | None = None  # periodic housekeeping (retention)
    elapsed: Elapsed | None = None  # a clock nobody sets, read beside the wall clock (see clock.py)
    _burst: bool = field(default=False, init=False)  # the last claim found a burst of new leads
    _reached_crm: bool = field(default=False, init=False)  # a job of this pass got its CRM answers
    _down_checked: datetime | None = field(default=None, init=False)  # when we last read the outage row
    _down: bool = field(default=False, init=False)  # an outage is recorded (as of `_down_checked`)
    _reconcile_checked: datetime | None = field(default=None, init=False)
    _tick: tuple[datetime, float] | None = field(default=None, init=False)  # (wall, elapsed) last pass

    def __post_init__(self) -> None:
        options = self.options
        if self.elapsed is None:
            self.elapsed = elapsed_of(self.ctx.clock)
        hold = timedelta(seconds=options.hold)
        self.pacing = Pacing(options.claim_batch, options.read_batch, hold)
        self.flusher = Flusher(
            self.ctx,
            options.lease,
            options.max_write_attempts,
            self.rng,
            options.hold,
            outage_cap=options.outage_retry_cap,
            on_answer=self.crm_answered,
            on_outage=self._crm_failed,
        )

    def run_once(self) -> int:
        """Process every due job once and flush the outbox; returns how much work was done."""
        done = self.process()
        written = self.flush()
        self._heartbeat()
        return done + written

    def process(self) -> int:
        """Claim due jobs and run them (in batches where possible); returns how many were claimed."""
        now = self.ctx.clock()
        self.watch_clock(now)

        def cut(due: list[Job]) -> int:
            take, self._burst = self.pacing.cut(due, now, _needs_lead)
            return take

        self._burst = False
        claimed = claim_jobs(
            self.ctx.engine, self.ctx.worker, now, self.options.lease, self.pacing.window, cut=cut
        )
        self._reached_crm = False
        self._prefetch(claimed)
        self._handle(claimed)
        self.ctx.prefetched = {}
        if self._reached_crm:
            self.crm_answered()
        return len(claimed)

    def watch_clock(self, now: datetime) -> None:
        """Between two passes the wall clock moved ahead of elapsed time by more than `clock_step`:
        it was set forward (by hand, or NTP fixing a clock that was behind), and that time did not
        pass for the leads. The duration timers set before the step are moved by it (one UPDATE),
        the step is audited once (and shown in /healthz). A worker that was stopped meanwhile starts
        with no reading, so what really became due then rings."""
        if self.elapsed is None:
            return
        tick = self.elapsed()
        last = self._tick
        passed = tick - last[1] if last is not None else 0.0
        jump = (now - last[0]).total_seconds() - passed if last is not None else 0.0
        if last is None or jump <= self.options.clock_step:
            self._tick = (now, tick)
            return
        before = last[0] + timedelta(seconds=passed)  # what the clock would say now without the step
        within = timedelta(seconds=max(self.options.clock_step, 600.0))
        with self.ctx.engine.begin() as connection:
            if not claim_step(connection, now, jump, within, self.options.clock_step):
                self._tick = (now, tick)
                return  # another worker saw this step first and moved the timers
            moved = shift_timers(connection, DURATION_TIMERS, before, timedelta(seconds=jump), now)
            note_shifted(connection, now, moved)
            words = texts(self.ctx.policy().language, "audit")
            write_audit(
                connection,
                AuditKind.CLOCK_STEP,
                words["clock_step"].format(seconds=round(jump), timers=moved),
                at=now,
                detail={"seconds": round(jump, 1), "timers": moved, "before": before.isoformat()},
            )
        self._tick = (now, tick)  # only now: if storing it failed, the next pass sees the step again
        log.warning("the wall clock was set forward by %.0f s; %d timers moved with it", jump, moved)

    def crm_answered(self) -> None:
        """The CRM answered: if an outage is recorded, end it, making everything that waits due now.
        Whether one is recorded is read at most every few seconds (another worker may record it)."""
        now = self.ctx.clock()
        if not self._down and self._down_checked is not None and abs(now - self._down_checked) < _RECHECK:
            return
        with self.ctx.engine.begin() as connection:
            since = mark_up(connection, self.ctx.crm.name, now)
            if since is not None:
                seconds = max(0.0, (now - since).total_seconds())
                write_audit(
                    connection,
                    AuditKind.CRM_BACK,
                    f"the CRM answers again after {seconds:.0f} s; the work that waited is due now",
                    at=now,
                    crm=self.ctx.crm.name,
                    detail={"since": since.isoformat(), "seconds": round(seconds)},
                )
                log.warning("%s answers again after %.0f s", self.ctx.crm.name, seconds)
        self._down, self._down_checked = False, now

    def _crm_failed(self, error: str) -> None:
        """A call to the CRM failed for the CRM's reasons: record the outage (audited once, at its start)."""
        now = self.ctx.clock()
        with self.ctx.engine.begin() as connection:
            if mark_down(connection, self.ctx.crm.name, now, error):
                write_audit(
                    connection,
                    AuditKind.CRM_DOWN,
                    f"the CRM does not answer ({error}); leads and writes wait for it, none is given up",
                    at=now,
                    crm=self.ctx.crm.name,
                    detail={"error": error},
                )
                log.warning("%s does not answer: %s", self.ctx.crm.name, error)
        self._down, self._down_checked = True, now

    def keep_reconciling(self, now: datetime) -> None:
        """The reconciler and the hook check can never die: re-create their jobs if they are gone
        (checked every few minutes)."""
        last = self._reconcile_checked
        if last is not None and abs(now - last) < timedelta(seconds=self.options.reconcile_check):
            return
        with self.ctx.engine.begin() as connection:
            if isinstance(self.ctx.crm, Reconcilable):
                ensure_reconcile_job(connection, self.ctx.crm.name, now)
            if self.ctx.hooks is not None:
                # A worker starting checks at once: a restart is when deliveries fail.
                ensure_job(connection, JobKind.HOOK_CHECK, self.ctx.crm.name, now, at_once=last is None)
            if isinstance(self.ctx.crm, TeamReader):
                ensure_job(connection, JobKind.TEAM_SYNC, self.ctx.crm.name, now)
            if isinstance(self.ctx.crm, LoadReader) and self.ctx.policy().crm_load is not None:
                ensure_job(connection, JobKind.CRM_LOAD, self.ctx.crm.name, now)
        self._reconcile_checked = now

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set, resting when there is nothing to do. The outbox is sent by a
        thread of its own meanwhile, so CRM writes overlap the next jobs' reads and decisions."""
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
                    self.keep_reconciling(self.ctx.clock())
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
        self._reached_crm = self._reached_crm or len(failed) < len(prepared.jobs)
        for job in prepared.later:
            self._run(job)

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
            self._reached_crm = self._reached_crm or job.kind in _CALLS_CRM
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
        if isinstance(exc, TransientCrmError | AuthError) or job.kind in _PERIODIC:
            self._wait_for_crm(job, error, now)
            return
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

    def _wait_for_crm(self, job: Job, error: str, now: datetime) -> None:
        """The CRM is down (or refuses our credentials): the job waits, however long it takes. The
        reconciler and the hook check wait out any error: they are what finds the leads a lost webhook
        hid, and what brings the webhook back."""
        self._crm_failed(error)
        delay = backoff_delay(job.attempts, self.rng, cap=self.options.outage_retry_cap)
        try:
            with self.ctx.engine.begin() as connection:
                wait_for_crm(connection, job, self.ctx.worker, now, now + delay, error)
                if job.attempts == 1:  # the first failure is audited; the outage says the rest
                    detail = {"job": job.id, "kind": job.kind, "waiting": True}
                    write_audit(
                        connection,
                        AuditKind.JOB_RETRY,
                        f"waiting for the CRM: {error}",
                        at=now,
                        crm=job.crm,
                        lead_id=job.lead_id,
                        detail=detail,
                    )
        except LeaseLost:
            pass

    def flush(self) -> int:
        """Send every due CRM write now, in batches, kind by kind; returns how many were attempted."""
        return self.flusher.flush()

    def _heartbeat(self) -> None:
        with self.ctx.engine.begin() as connection:
            record_heartbeat(connection, self.ctx.worker, self.ctx.clock())
