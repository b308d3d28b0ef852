"""Handoff jobs: a stage move, N days in a stage, an SLA check, a return after an absence.

Each is a job in the one queue (so it survives restarts and crashes), and each handover is an
assignment unique per lead and purpose — a worker killed mid-job can never hand a deal over twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from adapters.storage.audit import write_audit
from adapters.storage.queue import Job, complete, enqueue, enqueue_many, job_row, reschedule
from adapters.storage.routing import find_assignment, load_routing_state
from core.decide import decide_for
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.handoff import (
    HANDED,
    StageMove,
    after_days,
    blocked,
    followups,
    hand_over,
    on_stage,
    outcome_of,
    reroute,
    sla,
    stop_outcome,
    working_deadline,
)
from core.kinds import AuditKind, JobKind
from core.model import Lead
from core.policy import Handoff, Policy
from core.ports import CrmWrite, WriteKind
from webhook_app.pipeline.assign import record, remember
from webhook_app.pipeline.context import JobContext, note


def schedule_followups(
    connection: Connection, crm: str, lead: Lead, decision: Decision, policy: Policy, now: datetime
) -> None:
    """After a new lead's decision: the SLA check, and the return to an owner who is away."""
    enqueue_many(connection, followup_jobs(crm, lead, decision, policy, now))


def followup_jobs(
    crm: str, lead: Lead, decision: Decision, policy: Policy, now: datetime
) -> list[dict[str, Any]]:
    """The jobs a new lead's decision schedules (as `job_row`s): its SLA check, its return to an
    owner who is away (the core's `followups`)."""
    rows = []
    for later in followups(decision, policy, now):
        if later.kind is JobKind.SLA:
            payload = {"pool": later.pool, "had": [later.manager], "stage_id": lead.stage_id}
        else:
            payload = {"owner": later.manager, "substitute": decision.assignee, "stage_id": lead.stage_id}
        rows.append(job_row(later.kind, crm, lead.id, payload, later.due, now))
    return rows


def _owner_key(policy: Policy, lead: Lead) -> str | None:
    manager = policy.manager_for_user(lead.responsible_user_id)
    return manager.key if manager else None


def _hunter_field(handoff: Handoff, lead: Lead, policy: Policy, owner: str | None) -> list[CrmWrite]:
    if not handoff.keep_hunter_in_field or owner is None:
        return []
    name = policy.managers[owner].label
    return [CrmWrite(WriteKind.FIELD, lead.id, field_name=handoff.keep_hunter_in_field, field_value=name)]


def _handover(
    ctx: JobContext,
    connection: Connection,
    job: Job,
    lead: Lead,
    handoff: Handoff,
    now: datetime,
    kind: str,
) -> bool:
    """Hand the deal over (once per handoff); False when it has to wait for a shift."""
    policy = ctx.policy()
    if find_assignment(connection, job.crm, lead.id, handoff.name) is not None:
        note(connection, job, AuditKind.HANDOFF_DONE, f"handoff '{handoff.name}' already done", now)
        return True
    owner = _owner_key(policy, lead)
    stop = blocked(handoff, lead, owner)
    if stop is not None:
        note(
            connection,
            job,
            AuditKind.HANDOFF_BLOCKED,
            f"handoff '{handoff.name}' kept the deal where it is",
            now,
            **stop.params,
        )
        ctx.handed(kind, stop_outcome(stop))
        return True
    before = load_routing_state(connection, policy.pools, now)
    decision = hand_over(lead, policy, before, now, handoff, owner)
    if decision.outcome is Outcome.WAIT and decision.wait_until is not None:
        reschedule(connection, job, ctx.worker, now, decision.wait_until)
        return False
    extra = _hunter_field(handoff, lead, policy, owner)
    record(
        connection,
        job.crm,
        lead,
        decision,
        policy,
        before,
        now,
        purpose=handoff.name,
        extra=extra,
        kind=AuditKind.HANDOFF,
    )
    ctx.handed(kind, outcome_of(decision))
    return True


def stage_job(ctx: JobContext, job: Job) -> None:
    """A deal moved: start after-N-days clocks, and hand it over if it entered a handoff stage."""
    lead = ctx.fetch(job.lead_id or "")
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        if lead is None:
            note(connection, job, AuditKind.LEAD_MISSING, "deal no longer exists in the CRM", now)
            complete(connection, job, ctx.worker, now)
            return
        policy = ctx.policy()
        before: dict[str, Any] = dict(job.payload.get("before") or {})
        move = StageMove(before.get("pipeline"), before.get("stage"), lead.pipeline, lead.stage)
        note(
            connection,
            job,
            AuditKind.STAGE_CHANGED,
            f"stage {move.stage_before} → {move.stage}",
            now,
            stage_before=move.stage_before,
            stage=move.stage,
            pipeline=move.pipeline,
        )
        remember(connection, job.crm, lead, lead.responsible_user_id, now)
        if lead.closed in ("won", "lost"):  # for `leadrouter report`: conversion and won amounts
            owner = _owner_key(policy, lead)
            write_audit(
                connection,
                AuditKind(lead.closed),
                f"deal {lead.closed}",
                at=now,
                crm=job.crm,
                lead_id=lead.id,
                manager=owner,
                detail={"amount": lead.price or 0, "source": lead.source},
            )
        for later in after_days(policy, move):
            due = now + timedelta(days=later.after_days or 0)
            enqueue(
                connection,
                JobKind.AFTER_DAYS,
                job.crm,
                lead.id,
                {"handoff": later.name, "stage_id": lead.stage_id},
                due,
                now,
            )
        handoff = on_stage(policy, move)
        if handoff is None or _handover(ctx, connection, job, lead, handoff, now, "stage"):
            complete(connection, job, ctx.worker, now)


def after_days_job(ctx: JobContext, job: Job) -> None:
    """N days after the deal entered the stage: hand it over, unless it left the stage meanwhile."""
    lead = ctx.fetch(job.lead_id or "")
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        policy = ctx.policy()
        handoff = next((h for h in policy.handoffs if h.name == job.payload.get("handoff")), None)
        if lead is None or handoff is None or lead.stage_id != job.payload.get("stage_id"):
            note(
                connection,
                job,
                AuditKind.HANDOFF_CANCELLED,
                "the deal left the stage (or the handoff is gone)",
                now,
            )
        elif not _handover(ctx, connection, job, lead, handoff, now, "after_days"):
            return
        complete(connection, job, ctx.worker, now)


def sla_job(ctx: JobContext, job: Job) -> None:
    """Nobody worked the lead in time: the next member who never had it, after K hops the fallback."""
    lead = ctx.fetch(job.lead_id or "")
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        policy = ctx.policy()
        had = [str(k) for k in job.payload.get("had", [])]
        holder = policy.managers.get(had[-1]) if had else None
        rule = sla(policy)
        worked = lead is None or lead.stage_id != job.payload.get("stage_id")
        moved = lead is not None and holder is not None and lead.responsible_user_id != holder.crm_user_id
        stop = blocked(rule, lead, holder.key if holder else None) if rule and lead else None
        if rule is None or worked or moved:
            note(connection, job, AuditKind.SLA_OK, "the lead was worked on (or reassigned) in time", now)
        elif stop is not None:
            note(
                connection,
                job,
                AuditKind.HANDOFF_BLOCKED,
                f"SLA '{rule.name}' kept the lead where it is",
                now,
                **stop.params,
            )
            ctx.handed("sla", stop_outcome(stop))
        elif lead is not None:
            _sla_reroute(ctx, connection, job, lead, rule, had, now)
        complete(connection, job, ctx.worker, now)


def _sla_reroute(
    ctx: JobContext,
    connection: Connection,
    job: Job,
    lead: Lead,
    rule: Handoff,
    had: list[str],
    now: datetime,
) -> None:
    policy = ctx.policy()
    before = load_routing_state(connection, policy.pools, now)
    decision = reroute(lead, policy, before, now, rule, str(job.payload["pool"]), had)
    if decision.outcome is not Outcome.ASSIGN or decision.assignee is None:
        note(
            connection, job, AuditKind.SLA_WAITING, "nobody can take the lead now; checking again later", now
        )
        enqueue(connection, JobKind.SLA, job.crm, lead.id, dict(job.payload), decision.wait_until or now, now)
        return
    record(
        connection,
        job.crm,
        lead,
        decision,
        policy,
        before,
        now,
        purpose=f"sla:{len(had)}",
        kind=AuditKind.HANDOFF,
    )
    ctx.handed("sla", outcome_of(decision))
    if decision.route is Route.POOL and rule.unworked_minutes:
        due = working_deadline(policy.managers[decision.assignee], now, rule.unworked_minutes)
        if due is not None:
            payload = {**job.payload, "had": [*had, decision.assignee]}
            enqueue(connection, JobKind.SLA, job.crm, lead.id, payload, due, now)


def return_job(ctx: JobContext, job: Job) -> None:
    """The owner is back: leads their substitute received go back, unless already moved forward."""
    lead = ctx.fetch(job.lead_id or "")
    now = ctx.clock()
    with ctx.engine.begin() as connection:
        policy = ctx.policy()
        owner = policy.managers.get(str(job.payload.get("owner")))
        substitute = policy.managers.get(str(job.payload.get("substitute")))
        if lead is None or owner is None or substitute is None:
            note(connection, job, AuditKind.RETURN_SKIPPED, "lead or managers no longer exist", now)
        elif (
            lead.stage_id != job.payload.get("stage_id") or lead.responsible_user_id != substitute.crm_user_id
        ):
            note(
                connection,
                job,
                AuditKind.RETURN_SKIPPED,
                "the substitute already moved the lead on; it stays",
                now,
            )
        elif find_assignment(connection, job.crm, lead.id, "return") is None:
            step = Step(StepCode.RETURN, {"manager": owner.key})
            decision = decide_for(lead, policy, now, owner.key, steps=(step,), route=Route.RETURN)
            before = load_routing_state(connection, policy.pools, now)
            record(
                connection,
                job.crm,
                lead,
                decision,
                policy,
                before,
                now,
                purpose="return",
                kind=AuditKind.HANDOFF,
            )
            ctx.handed("return", HANDED)
        complete(connection, job, ctx.worker, now)
