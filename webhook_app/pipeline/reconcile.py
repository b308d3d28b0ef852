"""The reconciler: poll the CRM for leads created or changed since a watermark, and feed anything
a lost webhook hid from us into the same idempotent intake. Neither CRM can be trusted to deliver
every event (Bitrix24 never resends; amoCRM users report missing hooks).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from adapters.storage.audit import write_audit
from adapters.storage.intake import IncomingEvent, store_events
from adapters.storage.queue import PENDING, RUNNING, Job, complete, enqueue, reschedule
from adapters.storage.sql import upsert
from adapters.storage.tables import inbox, jobs, kv, lead_seen
from core.kinds import AuditKind, JobKind
from core.ports import ChangedLead, Reconcilable
from webhook_app.pipeline.context import JobContext

INTERVAL = timedelta(minutes=5)
OVERLAP = timedelta(minutes=2)  # CRM clocks and list ordering are not exact: re-read a little


def _key(crm: str) -> str:
    return f"reconcile:{crm}"


def ensure_reconcile_job(connection: Connection, crm: str, now: datetime) -> None:
    """Queue the periodic reconcile job unless one is already waiting or running."""
    exists = connection.execute(
        select(jobs.c.id).where(
            jobs.c.kind == JobKind.RECONCILE, jobs.c.crm == crm, jobs.c.state.in_([PENDING, RUNNING])
        )
    ).first()
    if exists is None:
        enqueue(connection, JobKind.RECONCILE, crm, None, {}, now, now)


def reconcile(ctx: JobContext, job: Job) -> None:
    """One pass: list what changed, store what we never saw, move the watermark, come back later."""
    now = ctx.clock()
    if not isinstance(ctx.crm, Reconcilable):
        with ctx.engine.begin() as connection:
            complete(connection, job, ctx.worker, now)
        return
    with ctx.engine.begin() as connection:
        row = connection.execute(select(kv.c.value).where(kv.c.key == _key(job.crm))).first()
    if row is None:  # the first pass only sets the starting line: leads from before install are not ours
        changed: list[ChangedLead] = []
        watermark = now
    else:
        since = datetime.fromisoformat(row.value["since"])
        changed = ctx.crm.changed_since(since - OVERLAP)  # network I/O outside transactions
        watermark = max([since, *(c.updated_at for c in changed)])
    missed = _store_missed(ctx, job.crm, changed, now)
    with ctx.engine.begin() as connection:
        connection.execute(
            upsert(
                connection,
                kv,
                ["key"],
                key=_key(job.crm),
                value={"since": watermark.isoformat()},
                updated_at=now,
            )
        )
        if missed:
            write_audit(
                connection,
                AuditKind.RECONCILED,
                f"{missed} event(s) no webhook brought, fed into the intake",
                at=now,
                crm=job.crm,
                detail={"since": watermark.isoformat()},
            )
        reschedule(connection, job, ctx.worker, now, now + INTERVAL)


def _store_missed(ctx: JobContext, crm: str, changed: list[ChangedLead], now: datetime) -> int:
    if not changed:
        return 0
    ids = [c.lead_id for c in changed]
    with ctx.engine.begin() as connection:
        seen = set(
            connection.execute(
                select(inbox.c.lead_id).where(inbox.c.crm == crm, inbox.c.lead_id.in_(ids))
            ).scalars()
        )
        ours = dict(
            connection.execute(
                select(lead_seen.c.lead_id, lead_seen.c.updated_at).where(
                    lead_seen.c.crm == crm, lead_seen.c.lead_id.in_(ids)
                )
            ).all()
        )
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
