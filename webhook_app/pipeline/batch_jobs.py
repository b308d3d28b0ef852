"""Many claimed jobs in one transaction: new leads decided in claim order, update events settled in bulk.

In a burst (10,000 new leads, then twice as many echoes of our own writes) a transaction per job
spends the worker's time on commits and one-row statements. A run of consecutive `lead` and
`event` jobs is handled here instead. Their leads are read first, outside any transaction (from the
worker's batched prefetch). Then one transaction locks the pools, reads what it needs for all of
them with one query per table, decides the leads one after another on the routing state kept in
memory — the order and the state that one job at a time would see, since the pool rows stay locked
— and stores every row with one executemany per table. Rare turns (a person's change, a deleted
lead, a wait for the shift) store what is collected so far and then run their usual statements, so
what they read is what one job at a time would read.

If that transaction fails (a lost lease, a database error), it rolls back whole and the caller runs
the jobs one by one with the usual handlers, each with its own error handling.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from adapters.storage.audit import audit_row, write_audit_rows
from adapters.storage.inputs import insert_inputs
from adapters.storage.outbox import enqueue_rows, outbox_row, pending_leads
from adapters.storage.queue import Job, complete_many, enqueue_many, reschedule
from adapters.storage.routing import (
    assigned_leads,
    insert_assignments,
    load_routing_state,
    save_routing_state,
)
from adapters.storage.seen import read_seen, remember_rows
from core.decide import apply_decision, decide
from core.decision import Outcome, decision_to_dict
from core.kinds import AuditKind
from core.model import Lead
from core.policy import Policy
from core.ports import WriteKind
from core.reasons import Renderer
from core.state import RoutingState
from webhook_app.pipeline.assign import Planned, plan
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.handoffs import followup_jobs
from webhook_app.pipeline.jobs import (
    IGNORED,
    act_on_change,
    cancel_deleted,
    carries_state,
    echo_of,
    with_state,
)

Key = tuple[str, str]  # (crm, lead id)


def batchable(job: Job) -> bool:
    """Whether the job can join a batch: a new lead, or an update that is not a deletion."""
    return job.kind == "lead" or (job.kind == "event" and job.payload.get("action") != "delete")


@dataclass
class _Item:
    job: Job
    lead: Lead | None
    payload: dict[str, Any]
    gone: bool = False  # an update whose lead the CRM no longer has


@dataclass
class Prepared:
    """Jobs with their leads read; the jobs whose read failed are set apart."""

    items: list[_Item] = field(default_factory=list)
    failed: list[tuple[Job, Exception]] = field(default_factory=list)
    fetched: dict[str, Lead | None] = field(default_factory=dict)

    @property
    def jobs(self) -> list[Job]:
        """The jobs still to settle, in claim order."""
        return [item.job for item in self.items]

    def restore(self, ctx: JobContext) -> None:
        """Hand the leads read back to the context, for the one-by-one handlers after a failed batch."""
        ctx.prefetched.update(self.fetched)


def prepare(ctx: JobContext, jobs: Iterable[Job]) -> Prepared:
    """Read each job's lead (network I/O, outside any transaction), as its handler would."""
    prepared = Prepared()
    for job in jobs:
        lead_id = job.lead_id or ""
        payload = dict(job.payload)
        lead: Lead | None = None
        if job.kind == "lead" or not carries_state(payload):
            try:
                lead = ctx.fetch(lead_id)
            except Exception as exc:  # the worker retries it with backoff, as for one job
                prepared.failed.append((job, exc))
                continue
            prepared.fetched.setdefault(lead_id, lead)
        if job.kind == "lead":
            prepared.items.append(_Item(job, lead, payload))
        elif lead is not None:
            prepared.items.append(_Item(job, lead, with_state(payload, lead)))
        else:
            prepared.items.append(_Item(job, None, payload, gone=not carries_state(payload)))
    return prepared


def settle(ctx: JobContext, prepared: Prepared) -> list[tuple[Job, Exception]]:
    """Decide and record every prepared job in one transaction; the jobs whose own decision raised
    (nothing of theirs is stored) are returned for the usual retry."""
    if not prepared.items:
        return []
    run = _Run(ctx, ctx.policy(), ctx.clock())
    with ctx.engine.begin() as connection:
        run.connection = connection
        run.load([item.job for item in prepared.items])
        for item in prepared.items:
            if item.job.kind == "lead":
                run.decide(item.job, item.lead)
            else:
                run.event(item)
        run.store()
        run.save_state()
    return run.failed


@dataclass
class _Run:
    """One batch transaction: what it read up front, what it decided, what it has yet to store."""

    ctx: JobContext
    policy: Policy
    now: datetime
    connection: Connection = field(init=False)
    renderer: Renderer = field(init=False)
    before: RoutingState | None = None
    state: RoutingState | None = None
    assigned: set[Key] = field(default_factory=set)
    pending: set[Key] = field(default_factory=set)
    seen: dict[Key, dict[str, Any]] = field(default_factory=dict)
    failed: list[tuple[Job, Exception]] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    remembered: dict[Key, dict[str, Any]] = field(default_factory=dict)
    done: list[Job] = field(default_factory=list)
    waits: list[tuple[Job, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.renderer = Renderer(self.policy)

    def load(self, jobs: list[Job]) -> None:
        """Lock the pools (if a lead is to be decided), then read assignments, lead_seen and
        unconfirmed responsible writes of every lead in the batch: one query each."""
        if any(job.kind == "lead" for job in jobs):
            # First, as one job would: on PostgreSQL the pool rows serialise deciders, so what we
            # read next cannot change under us.
            self.before = self.state = load_routing_state(self.connection, self.policy.pools, self.now)
        by_crm: dict[str, list[str]] = {}
        for job in jobs:
            by_crm.setdefault(job.crm, []).append(job.lead_id or "")
        for crm, ids in by_crm.items():
            self.assigned |= {(crm, i) for i in assigned_leads(self.connection, crm, ids)}
            self.pending |= {
                (crm, i) for i in pending_leads(self.connection, crm, ids, WriteKind.RESPONSIBLE)
            }
            self.seen |= {
                (crm, i): dict(row._mapping) for i, row in read_seen(self.connection, crm, ids).items()
            }

    def decide(self, job: Job, lead: Lead | None) -> None:
        """A new lead: decided on the in-memory state (as `jobs.decide_lead` would), rows collected."""
        key = (job.crm, job.lead_id or "")
        if lead is None:
            return self._note(job, AuditKind.LEAD_MISSING, "lead no longer exists in the CRM")
        if key in self.assigned:
            return self._note(job, AuditKind.ALREADY_DECIDED, "lead already has an owner; not decided again")
        assert self.state is not None
        try:
            started = time.perf_counter()
            decision = decide(lead, self.policy, self.state, self.now)
            self.ctx.on_decision(time.perf_counter() - started)
            if decision.outcome is Outcome.WAIT and decision.wait_until is not None:
                row = audit_row(
                    AuditKind.WAIT,
                    self.renderer.reason(decision),
                    at=self.now,
                    crm=job.crm,
                    lead_id=lead.id,
                    config_version=self.policy.version,
                    detail=decision_to_dict(decision),
                )
                self.audit.append(row)
                self.waits.append((job, decision.wait_until))
                return None
            planned = plan(
                job.crm, lead, decision, self.policy, self.now, renderer=self.renderer, before=self.state
            )
            jobs = followup_jobs(job.crm, lead, decision, self.policy, self.now)
            after = apply_decision(self.state, decision, self.policy)
        except Exception as exc:  # this lead alone is retried; nothing of it was collected
            self.failed.append((job, exc))
            return None
        self.state = after
        self.planned.append(planned)
        self.audit.append(planned.audit)
        self.followups += jobs
        self.remembered[key] = self.seen[key] = planned.seen
        self.assigned.add(key)
        if any(write.kind is WriteKind.RESPONSIBLE for write in planned.writes):
            self.pending.add(key)
        self.done.append(job)
        return None

    def event(self, item: _Item) -> None:
        """An update: our echo (or an update of a lead we never routed) is one collected audit row;
        a person's change or a deletion runs the usual statements."""
        job, payload = item.job, item.payload
        key = (job.crm, job.lead_id or "")
        if item.gone:
            self.store()
            cancel_deleted(self.connection, job, self.now)
            self.done.append(job)
            return
        if key not in self.assigned:
            return self._note(job, AuditKind.IGNORED, IGNORED, **payload)
        row = self.seen.get(key)
        seen = SimpleNamespace(**row) if row is not None else None
        echo = echo_of(payload, seen, lambda: key in self.pending)
        if echo is not None:
            return self._note(job, AuditKind.ECHO, echo, **payload)
        self.store()  # the change's statements come after everything decided before it
        # A counted override moves pool counters in the database: save ours first, read back after.
        counting = self.policy.count_overrides and self.state is not None
        if counting:
            self.save_state()
        values = act_on_change(self.connection, job, payload, seen, self.now, self.policy)
        if counting:
            self.before = self.state = load_routing_state(self.connection, self.policy.pools, self.now)
        assert row is not None  # echo_of finds a change only against a row
        self.seen[key] = {**row, **values}
        self.done.append(job)
        return None

    def _note(self, job: Job, kind: AuditKind, message: str, **detail: Any) -> None:
        self.audit.append(
            audit_row(kind, message, at=self.now, crm=job.crm, lead_id=job.lead_id, detail=detail)
        )
        self.done.append(job)

    def store(self) -> None:
        """Write what is collected: one executemany per table, the jobs marked done in one update."""
        connection, now = self.connection, self.now
        ids = insert_assignments(connection, [p.assignment for p in self.planned])
        insert_inputs(
            connection,
            [
                {**p.inputs, "assignment_id": i}
                for p, i in zip(self.planned, ids, strict=True)
                if p.inputs is not None
            ],
        )
        rows = [
            outbox_row(str(p.assignment["crm"]), write, now, assignment_id)
            for p, assignment_id in zip(self.planned, ids, strict=True)
            for write in p.writes
        ]
        enqueue_rows(connection, rows)
        remember_rows(connection, list(self.remembered.values()))
        enqueue_many(connection, self.followups)
        write_audit_rows(connection, self.audit)
        complete_many(connection, self.done, self.ctx.worker, now)
        for job, run_at in self.waits:
            reschedule(connection, job, self.ctx.worker, now, run_at)
        self.planned, self.audit, self.followups, self.done, self.waits = [], [], [], [], []
        self.remembered = {}

    def save_state(self) -> None:
        """Write back the pools and loads the batch's decisions changed."""
        if self.before is not None and self.state is not None:
            save_routing_state(self.connection, self.before, self.state, self.now)
