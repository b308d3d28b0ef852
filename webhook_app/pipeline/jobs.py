"""Job handlers: a new lead, an update event, a timer. Each reads the lead from the CRM (outside any
transaction), then runs the lead lifecycle and stores its effects in one transaction (`Carrier`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.storage.queue import Job
from core.kinds import AuditKind, JobKind
from core.lifecycle_types import Deleted, LeadLife, TimerRang, Updated
from core.model import Lead
from webhook_app.pipeline.carry import Carrier, as_int
from webhook_app.pipeline.context import JobContext

LEAD_MISSING = "lead no longer exists in the CRM"


def decide_lead(ctx: JobContext, job: Job) -> None:
    """Route a new lead once: read it, then the lifecycle decides and schedules what follows."""
    lead = ctx.fetch(job.lead_id or "")  # network I/O stays outside any transaction
    with ctx.engine.begin() as connection:
        carrier = Carrier(ctx, connection, ctx.policy(), ctx.clock())
        carrier.read([job], routing=True)
        if lead is None:
            carrier.note(job, AuditKind.LEAD_MISSING, LEAD_MISSING)
        else:
            carrier.arrived(job, lead)
        carrier.store()
        carrier.save_state()


def handle_event(ctx: JobContext, job: Job) -> None:
    """The CRM says a lead changed: the lifecycle tells a stage move, a person's change, our own
    echo or a late event apart. The lead is read unless the event already says all that matters."""
    payload = dict(job.payload)
    if payload.get("action") == "delete":  # the CRM's deletion webhook, or a write it refused as gone
        return _deleted(ctx, job, str(payload.get("source") or "webhook"))
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        carrier = Carrier(ctx, connection, ctx.policy(), now)
        carrier.read([job], routing=False)
        life = carrier.life(job)
    lead = stub_lead(job, payload, now) if needs_no_read(payload, life) else ctx.fetch(job.lead_id or "")
    if lead is None:
        return _deleted(ctx, job, "read")
    with ctx.engine.begin() as connection:
        carrier = Carrier(ctx, connection, ctx.policy(), ctx.clock())
        carrier.read([job], routing=True)
        carrier.feed(job, lead, carrier.updated(job, lead, payload))
        carrier.store()
        carrier.save_state()
    return None


def timer_job(ctx: JobContext, job: Job) -> None:
    """A timer rang (SLA, N days in a stage, an owner back): the lifecycle, on the lead as it is now
    (gone from the CRM: closed as deleted, its other pending work dropped)."""
    lead = ctx.fetch(job.lead_id or "")
    with ctx.engine.begin() as connection:
        carrier = Carrier(ctx, connection, ctx.policy(), ctx.clock())
        carrier.read([job], routing=True)
        if lead is None:
            cancel_deleted(carrier, job)
        elif job.kind == JobKind.STAGE:  # queued by an earlier version for a stage move: an update now
            carrier.feed(job, lead, Updated(lead))
        else:
            carrier.feed(job, lead, TimerRang(JobKind(job.kind), timer_data(job), lead))
        carrier.store()
        carrier.save_state()


def needs_no_read(payload: Mapping[str, Any], life: LeadLife | None) -> bool:
    """Whether the event itself says all the lifecycle needs: a lead we never routed (ignored), or an
    event that carries the responsible and the stage (amoCRM's do) with the stage where we last saw
    it — an echo, or only a person's change. A stage move needs the lead read (names, won or lost)."""
    if life is None or life.owner_user is None:
        return True
    return carries_state(payload) and str(payload.get("stage_id")) == str(life.place)


def stub_lead(job: Job, payload: Mapping[str, Any], now: datetime) -> Lead:
    """The lead as far as an event with its state tells it."""
    return Lead(
        id=job.lead_id or "",
        created_at=now,
        stage_id=str(payload["stage_id"]) if payload.get("stage_id") is not None else None,
        responsible_user_id=as_int(payload.get("responsible_user_id")),
    )


def timer_data(job: Job) -> dict[str, str]:
    """A timer job's data; jobs queued by an earlier version carried it in another shape."""
    data = {str(k): v for k, v in job.payload.items()}
    if job.kind == JobKind.SLA and "had" in data:  # {pool, had: [...], stage_id}
        had = [str(k) for k in data["had"]]
        return {
            "holder": had[-1] if had else "",
            "turn": str(len(had)),
            "pool": str(data.get("pool") or ""),
            "stage_id": str(data.get("stage_id") or ""),
        }
    return {k: "" if v is None else str(v) for k, v in data.items()}


def carries_state(payload: Mapping[str, Any]) -> bool:
    """Whether an update event names the lead's responsible and stage (amoCRM's do; Bitrix24's
    events and reconciled ones carry only the id, so the lead is read)."""
    return "responsible_user_id" in payload and "stage_id" in payload


def _deleted(ctx: JobContext, job: Job, source: str) -> None:
    with ctx.engine.begin() as connection:
        carrier = Carrier(ctx, connection, ctx.policy(), ctx.clock())
        carrier.read([job], routing=False)
        cancel_deleted(carrier, job, source)
        carrier.store()


def cancel_deleted(carrier: Carrier, job: Job, source: str = "read") -> None:
    """The lead is gone from the CRM: the lifecycle closes it as deleted (audited once), and its
    pending jobs, timers and writes are cancelled — none of it is a dead letter."""
    carrier.feed(job, None, Deleted(source))
