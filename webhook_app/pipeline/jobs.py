"""Job handlers for new leads and update events. Each job's effects commit in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from adapters.storage.audit import write_audit
from adapters.storage.outbox import pending_write
from adapters.storage.queue import Job, cancel_pending, complete, enqueue, reschedule
from adapters.storage.routing import find_assignment, load_routing_state
from adapters.storage.seen import seen_lead, update_seen
from core.decide import decide
from core.decision import Outcome, decision_to_dict
from core.kinds import AuditKind, JobKind
from core.model import Lead
from core.policy import Policy
from core.ports import WriteKind
from core.reasons import Renderer
from webhook_app.pipeline.assign import record
from webhook_app.pipeline.context import JobContext, note
from webhook_app.pipeline.handoffs import schedule_followups
from webhook_app.pipeline.overrides import count_override


def decide_lead(ctx: JobContext, job: Job) -> None:
    """Route a new lead once: fetch it, decide, store assignment + state + outbox + audit."""
    lead_id = job.lead_id or ""
    with ctx.engine.begin() as connection:
        if find_assignment(connection, job.crm, lead_id) is not None:
            note(
                connection,
                job,
                AuditKind.ALREADY_DECIDED,
                "lead already has an owner; not decided again",
                ctx.clock(),
            )
            complete(connection, job, ctx.worker, ctx.clock())
            return
    lead = ctx.fetch(lead_id)  # network I/O stays outside any transaction
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        if lead is None:
            note(connection, job, AuditKind.LEAD_MISSING, "lead no longer exists in the CRM", now)
        elif find_assignment(connection, job.crm, lead_id) is not None:
            note(
                connection,
                job,
                AuditKind.ALREADY_DECIDED,
                "lead already has an owner; not decided again",
                now,
            )
        elif not _decide_locked(connection, ctx, job, lead, now):
            return  # rescheduled to wait for a shift
        complete(connection, job, ctx.worker, now)


def _decide_locked(connection: Connection, ctx: JobContext, job: Job, lead: Lead, now: datetime) -> bool:
    policy = ctx.policy()
    before = load_routing_state(connection, policy.pools, now)
    started = time.perf_counter()
    decision = decide(lead, policy, before, now)
    ctx.on_decision(time.perf_counter() - started)
    if decision.outcome is Outcome.WAIT and decision.wait_until is not None:
        reason = Renderer(policy).reason(decision)
        write_audit(
            connection,
            AuditKind.WAIT,
            reason,
            at=now,
            crm=job.crm,
            lead_id=lead.id,
            config_version=policy.version,
            detail=decision_to_dict(decision),
        )
        reschedule(connection, job, ctx.worker, now, decision.wait_until)
        return False
    record(connection, job.crm, lead, decision, policy, before, now)
    schedule_followups(connection, job.crm, lead, decision, policy, now)
    return True


def handle_event(ctx: JobContext, job: Job) -> None:
    """Interpret an update: our own write's echo, a person's override, a stage move, a deletion."""
    payload = dict(job.payload)
    lead_id = job.lead_id or ""
    if payload.get("action") == "delete":
        return _deleted(ctx, job)
    if not carries_state(payload):
        lead = ctx.fetch(lead_id)
        if lead is None:
            return _deleted(ctx, job)
        payload = with_state(payload, lead)
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        _interpret(connection, job, payload, now, ctx.policy())
        complete(connection, job, ctx.worker, now)


def carries_state(payload: Mapping[str, Any]) -> bool:
    """Whether an update event names the lead's responsible and stage (amoCRM's do; Bitrix24's
    events and reconciled ones carry only the id, so the lead is read)."""
    return "responsible_user_id" in payload and "stage_id" in payload


def with_state(payload: Mapping[str, Any], lead: Lead) -> dict[str, Any]:
    """The event's payload completed with the lead's responsible, stage and pipeline as read."""
    state = {"responsible_user_id": lead.responsible_user_id, "stage_id": lead.stage_id}
    return {**payload, **state, "pipeline_id": lead.pipeline_id}


IGNORED = "update for a lead we did not route"


def _interpret(
    connection: Connection, job: Job, payload: dict[str, Any], now: datetime, policy: Policy
) -> None:
    crm, lead_id = job.crm, job.lead_id or ""
    if find_assignment(connection, crm, lead_id) is None:
        note(connection, job, AuditKind.IGNORED, IGNORED, now, **payload)
        return
    seen = seen_lead(connection, crm, lead_id)
    echo = echo_of(payload, seen, lambda: pending_write(connection, crm, lead_id, WriteKind.RESPONSIBLE))
    if echo is not None:
        note(connection, job, AuditKind.ECHO, echo, now, **payload)
        return
    act_on_change(connection, job, payload, seen, now, policy)


def echo_of(payload: dict[str, Any], seen: Any, pending: Callable[[], bool]) -> str | None:
    """Why an update of a lead we routed needs nothing from us (our own write's echo), or None.

    `seen` is the lead_seen row; `pending` tells whether our responsible write is still unconfirmed.
    """
    responsible = _as_int(payload.get("responsible_user_id"))
    stage = payload.get("stage_id")
    changed_owner = responsible is not None and seen is not None and responsible != seen.responsible
    changed_stage = stage is not None and seen is not None and str(stage) != str(seen.stage)
    if not changed_owner and not changed_stage:
        return "echo of our own write (or no change we act on)"
    if changed_owner and pending():
        return "update from before our pending write"
    return None


def act_on_change(
    connection: Connection, job: Job, payload: dict[str, Any], seen: Any, now: datetime, policy: Policy
) -> dict[str, Any]:
    """A change that is not ours: record an override (moving the share if the config counts overrides),
    queue the stage job; returns lead_seen's new values."""
    crm, lead_id = job.crm, job.lead_id or ""
    responsible = _as_int(payload.get("responsible_user_id"))
    stage = payload.get("stage_id")
    changed_owner = responsible is not None and responsible != seen.responsible
    changed_stage = stage is not None and str(stage) != str(seen.stage)
    values: dict[str, Any] = {"updated_at": now}
    if changed_owner:
        counted = count_override(connection, policy, crm, lead_id, seen.responsible, responsible, now)
        message = f"responsible changed in the CRM to user {responsible}"
        if counted is not None:
            message += f"; counted toward {counted['to'] or 'nobody we route to'} in pool {counted['pool']}"
        note(connection, job, AuditKind.OVERRIDE, message, now, **payload, counted=counted)
        values["responsible"] = responsible
    if changed_stage:
        before = {"stage_id": seen.stage, "stage": seen.stage_name, "pipeline": seen.pipeline_name}
        enqueue(connection, JobKind.STAGE, crm, lead_id, {"before": before, "stage_id": str(stage)}, now, now)
        values.update(stage=str(stage), pipeline=payload.get("pipeline_id"))
    update_seen(connection, crm, lead_id, values)
    return values


def _deleted(ctx: JobContext, job: Job) -> None:
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        cancel_deleted(connection, job, now)
        complete(connection, job, ctx.worker, now)


def cancel_deleted(connection: Connection, job: Job, now: datetime) -> None:
    """The lead is gone from the CRM: cancel its pending work, and say so in the audit."""
    cancel_pending(connection, job.crm, job.lead_id, now)
    note(connection, job, AuditKind.DELETED, "lead deleted in the CRM; pending work cancelled", now)


def _as_int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
