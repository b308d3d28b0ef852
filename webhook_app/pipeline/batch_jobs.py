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

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from adapters.storage.queue import Job
from core.kinds import AuditKind, JobKind
from core.model import Lead
from webhook_app.pipeline.carry import Carrier
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.jobs import (
    LEAD_MISSING,
    cancel_deleted,
    carries_state,
    needs_no_read,
    stub_lead,
)


def batchable(job: Job) -> bool:
    """Whether the job can join a batch: a new lead, or an update that is not a deletion."""
    return job.kind == JobKind.LEAD or (job.kind == JobKind.EVENT and job.payload.get("action") != "delete")


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
    later: list[Job] = field(default_factory=list)  # stage moves to read and run one by one after

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
        if job.kind == JobKind.LEAD or not carries_state(payload):
            try:
                lead = ctx.fetch(lead_id)
            except Exception as exc:  # the worker retries it with backoff, as for one job
                prepared.failed.append((job, exc))
                continue
            prepared.fetched.setdefault(lead_id, lead)
        if job.kind == JobKind.LEAD or lead is not None:
            prepared.items.append(_Item(job, lead, payload))
        else:
            prepared.items.append(_Item(job, None, payload, gone=not carries_state(payload)))
    return prepared


def settle(ctx: JobContext, prepared: Prepared) -> list[tuple[Job, Exception]]:
    """Run the lifecycle for every prepared job in one transaction (one statement per table). An
    update that moved the stage but was not read (its lead unknown when the batch read the leads)
    is set aside in `prepared.later`, for the usual one-by-one handler after the batch."""
    if not prepared.items:
        return []
    failed: list[tuple[Job, Exception]] = []
    with ctx.engine.begin() as connection:
        carrier = Carrier(ctx, connection, ctx.policy(), ctx.clock())
        jobs = [item.job for item in prepared.items]
        carrier.read(jobs, routing=any(job.kind == JobKind.LEAD for job in jobs))
        for item in prepared.items:
            job = item.job
            if job.kind == JobKind.LEAD:
                if item.lead is None:
                    carrier.note(job, AuditKind.LEAD_MISSING, LEAD_MISSING)
                    continue
                try:
                    carrier.arrived(job, item.lead)
                except Exception as exc:  # this lead alone is retried (nothing of it was collected)
                    failed.append((job, exc))
            elif item.gone:
                carrier.store()
                cancel_deleted(carrier, job)
            elif item.lead is None and not needs_no_read(item.payload, carrier.life(job)):
                prepared.later.append(job)
            else:
                lead = item.lead or stub_lead(job, item.payload, carrier.now)
                carrier.feed(job, lead, carrier.updated(job, lead, item.payload))
        carrier.store()
        carrier.save_state()
    return failed
