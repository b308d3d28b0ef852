"""The reconciler: poll the CRM for leads created or changed since a watermark, and feed anything
a lost webhook hid from us into the same idempotent intake. Neither CRM can be trusted to deliver
every event (Bitrix24 never resends; amoCRM users report missing hooks).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from adapters.storage.audit import write_audit
from adapters.storage.intake import IncomingEvent, store_events, stored_leads
from adapters.storage.kv import put_value, read_value
from adapters.storage.queue import Job, complete, ensure_job, reschedule
from adapters.storage.seen import seen_times
from core.kinds import AuditKind, JobKind
from core.ports import ChangedLead, Reconcilable
from webhook_app.pipeline.context import JobContext

INTERVAL = timedelta(minutes=5)
OVERLAP = timedelta(minutes=2)  # CRM clocks and list ordering are not exact: re-read a little


def _key(crm: str) -> str:
    return f"reconcile:{crm}"


def ensure_reconcile_job(connection: Connection, crm: str, now: datetime) -> None:
    """Queue the periodic reconcile job unless one is already waiting or running."""
    ensure_job(connection, JobKind.RECONCILE, crm, now)


def reconcile(ctx: JobContext, job: Job) -> None:
    """One pass: list what changed, store what we never saw, move the watermark, come back later."""
    now = ctx.clock()
    if not isinstance(ctx.crm, Reconcilable):
        with ctx.engine.begin() as connection:
            complete(connection, job, ctx.worker, now)
        return
    with ctx.engine.begin() as connection:
        mark = read_value(connection, _key(job.crm))
    if mark is None:  # the first pass only sets the starting line: leads from before install are not ours
        changed: list[ChangedLead] = []
        watermark = now
    else:
        since = datetime.fromisoformat(mark["since"])
        changed = ctx.crm.changed_since(since - OVERLAP)  # network I/O outside transactions
        watermark = max([since, *(c.updated_at for c in changed)])
    missed = _store_missed(ctx, job.crm, changed, now)
    with ctx.engine.begin() as connection:
        put_value(connection, _key(job.crm), {"since": watermark.isoformat()}, now)
        if missed:
            write_audit(
                connection,
                AuditKind.RECONCILED,
                f"{missed} event(s) no webhook brought, fed into the intake",
                at=now,
                crm=job.crm,
                detail={"since": watermark.isoformat(), "missed": missed},
            )
        reschedule(connection, job, ctx.worker, now, now + INTERVAL)


def _store_missed(ctx: JobContext, crm: str, changed: list[ChangedLead], now: datetime) -> int:
    if not changed:
        return 0
    ids = [c.lead_id for c in changed]
    with ctx.engine.begin() as connection:
        seen = stored_leads(connection, crm, ids)
        ours = seen_times(connection, crm, ids)
    events = []
    for item in changed:
        stamp = item.updated_at.isoformat()
        if item.lead_id not in seen:
            events.append(
                IncomingEvent(
                    crm,
                    f"{crm}:reconcile:add:{item.lead_id}",
                    "reconciled_add",
                    item.lead_id,
                    {"action": "add", "source": "reconcile"},
                    job_kind=JobKind.LEAD,
                )
            )
        elif item.lead_id in ours and item.updated_at > ours[item.lead_id]:
            # A known lead changed after we last looked: let the event handler fetch it and spot
            # a stage move whose webhook never came.
            events.append(
                IncomingEvent(
                    crm,
                    f"{crm}:reconcile:update:{item.lead_id}:{stamp}",
                    "reconciled_update",
                    item.lead_id,
                    {"action": "update", "source": "reconcile"},
                    job_kind=JobKind.EVENT,
                )
            )
    return sum(store_events(ctx.engine, events, now)) if events else 0
