"""Job handlers: decide a new lead, interpret an update event. Each runs in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, update

from adapters.storage.audit import write_audit
from adapters.storage.outbox import enqueue_writes, pending_write
from adapters.storage.queue import PENDING, Job, complete, reschedule
from adapters.storage.routing import (
    find_assignment,
    insert_assignment,
    load_routing_state,
    save_routing_state,
)
from adapters.storage.sql import upsert
from adapters.storage.tables import jobs, lead_seen
from core.decide import apply_decision, decide
from core.decision import Outcome, decision_to_dict
from core.model import Lead, Policy
from core.ports import CrmPort, WriteKind
from core.reasons import Renderer
from webhook_app.writes import writes_for


@dataclass
class JobContext:
    """What a handler needs: the database, the CRM, the config in force, the clock, who we are."""

    engine: Engine
    crm: CrmPort
    policy: Callable[[], Policy]
    clock: Callable[[], datetime]
    worker: str
    on_decision: Callable[[float], None] = lambda seconds: None
    on_write: Callable[[str, str], None] = lambda kind, outcome: None


def decide_lead(ctx: JobContext, job: Job) -> None:
    """Route a new lead once: fetch it, decide, store assignment + state + outbox + audit."""
    lead_id = job.lead_id or ""
    with ctx.engine.begin() as connection:
        if find_assignment(connection, job.crm, lead_id) is not None:
            _already_decided(connection, ctx, job)
            return
    lead = ctx.crm.fetch_lead(lead_id)  # network I/O stays outside any transaction
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        if lead is None:
            write_audit(
                connection,
                "lead_missing",
                "lead no longer exists in the CRM",
                at=now,
                crm=job.crm,
                lead_id=lead_id,
            )
            complete(connection, job, ctx.worker, now)
        elif find_assignment(connection, job.crm, lead_id) is not None:
            _already_decided(connection, ctx, job)
        else:
            _decide_locked(connection, ctx, job, lead, now)


def _already_decided(connection: Connection, ctx: JobContext, job: Job) -> None:
    now = ctx.clock()
    write_audit(
        connection,
        "already_decided",
        "lead already has an owner; not decided again",
        at=now,
        crm=job.crm,
        lead_id=job.lead_id,
    )
    complete(connection, job, ctx.worker, now)


def _decide_locked(connection: Connection, ctx: JobContext, job: Job, lead: Lead, now: datetime) -> None:
    policy = ctx.policy()
    before = load_routing_state(connection, policy.pools, now)
    started = time.perf_counter()
    decision = decide(lead, policy, before, now)
    ctx.on_decision(time.perf_counter() - started)
    reason = Renderer(policy).reason(decision)
    data = decision_to_dict(decision)
    audit_args: dict[str, Any] = dict(at=now, crm=job.crm, lead_id=lead.id, config_version=policy.version)
    if decision.outcome is Outcome.WAIT and decision.wait_until is not None:
        write_audit(connection, "wait", reason, detail=data, **audit_args)
        reschedule(connection, job, ctx.worker, now, decision.wait_until)
        return
    assert decision.assignee is not None
    save_routing_state(connection, before, apply_decision(before, decision, policy), now)
    manager = policy.managers[decision.assignee]
    assignment_id = insert_assignment(
        connection,
        crm=job.crm,
        lead_id=lead.id,
        purpose="new",
        manager=manager.key,
        crm_user_id=manager.crm_user_id,
        rule=decision.rule,
        pool=decision.pool,
        strategy=decision.strategy,
        route=decision.route.value if decision.route else "pool",
        reason=reason,
        decision=data,
        config_version=policy.version,
        decided_at=now,
    )
    enqueue_writes(connection, job.crm, writes_for(decision, policy, now, reason), now, assignment_id)
    _remember(connection, job.crm, lead.id, lead.stage_id, lead.pipeline_id, manager.crm_user_id, now)
    write_audit(connection, "decision", reason, manager=manager.key, detail=data, **audit_args)
    complete(connection, job, ctx.worker, now)


def _remember(
    connection: Connection,
    crm: str,
    lead_id: str,
    stage_id: str | None,
    pipeline_id: str | None,
    responsible: int | None,
    now: datetime,
) -> None:
    connection.execute(
        upsert(
            connection,
            lead_seen,
            ["crm", "lead_id"],
            crm=crm,
            lead_id=lead_id,
            stage=stage_id,
            pipeline=pipeline_id,
            responsible=responsible,
            updated_at=now,
        )
    )


def handle_event(ctx: JobContext, job: Job) -> None:
    """Interpret an update: our own write's echo, a person's override, a stage move, a deletion."""
    payload = dict(job.payload)
    lead_id = job.lead_id or ""
    if payload.get("action") == "delete":
        return _deleted(ctx, job)
    if "responsible_user_id" not in payload or "stage_id" not in payload:
        lead = ctx.crm.fetch_lead(lead_id)  # Bitrix24 events carry only the id
        if lead is None:
            return _deleted(ctx, job)
        payload.update(
            responsible_user_id=lead.responsible_user_id, stage_id=lead.stage_id, pipeline_id=lead.pipeline_id
        )
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        _interpret(connection, job, payload, now)
        complete(connection, job, ctx.worker, now)


def _interpret(connection: Connection, job: Job, payload: dict[str, Any], now: datetime) -> None:
    crm, lead_id = job.crm, job.lead_id or ""
    ours = find_assignment(connection, crm, lead_id)
    if ours is None:
        write_audit(
            connection,
            "ignored",
            "update for a lead we did not route",
            at=now,
            crm=crm,
            lead_id=lead_id,
            detail=payload,
        )
        return
    seen = connection.execute(
        lead_seen.select().where(lead_seen.c.crm == crm, lead_seen.c.lead_id == lead_id)
    ).first()
    responsible = _as_int(payload.get("responsible_user_id"))
    stage = payload.get("stage_id")
    changed_owner = responsible is not None and responsible != (seen.responsible if seen else None)
    changed_stage = stage is not None and seen is not None and str(stage) != str(seen.stage)
    if not changed_owner and not changed_stage:
        write_audit(
            connection,
            "echo",
            "echo of our own write (or no change we act on)",
            at=now,
            crm=crm,
            lead_id=lead_id,
            manager=ours.manager,
            detail=payload,
        )
        return
    if changed_owner and pending_write(connection, crm, lead_id, WriteKind.RESPONSIBLE):
        write_audit(
            connection,
            "echo",
            "update from before our pending write",
            at=now,
            crm=crm,
            lead_id=lead_id,
            detail=payload,
        )
        return
    if changed_owner:
        write_audit(
            connection,
            "override",
            f"responsible changed in the CRM to user {responsible}",
            at=now,
            crm=crm,
            lead_id=lead_id,
            detail=payload,
        )
    if changed_stage:
        write_audit(
            connection,
            "stage_changed",
            f"stage {seen.stage if seen else None} → {stage}",
            at=now,
            crm=crm,
            lead_id=lead_id,
            detail=payload,
        )
    _remember(
        connection,
        crm,
        lead_id,
        str(stage) if stage is not None else None,
        payload.get("pipeline_id"),
        responsible,
        now,
    )


def _deleted(ctx: JobContext, job: Job) -> None:
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        connection.execute(
            update(jobs)
            .where(jobs.c.crm == job.crm, jobs.c.lead_id == job.lead_id, jobs.c.state == PENDING)
            .values(state="cancelled", updated_at=now)
        )
        write_audit(
            connection,
            "deleted",
            "lead deleted in the CRM; pending work cancelled",
            at=now,
            crm=job.crm,
            lead_id=job.lead_id,
        )
        complete(connection, job, ctx.worker, now)


def _as_int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
