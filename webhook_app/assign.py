"""Recording an assignment: the row, the pool state, the CRM writes, what we last saw, the audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from adapters.storage.audit import write_audit
from adapters.storage.outbox import enqueue_writes
from adapters.storage.routing import insert_assignment, save_routing_state
from adapters.storage.sql import upsert
from adapters.storage.tables import lead_seen
from core.decide import apply_decision
from core.decision import Decision, decision_to_dict
from core.model import Lead, Policy
from core.ports import CrmWrite
from core.reasons import Renderer
from core.state import RoutingState
from webhook_app.writes import writes_for


class AlreadyAssigned(Exception):
    """The lead already has an assignment for this purpose (another worker won): roll back."""


def remember(connection: Connection, crm: str, lead: Lead, responsible: int | None, now: datetime) -> None:
    """Store the stage, pipeline and responsible we last saw (or set) for a lead."""
    connection.execute(
        upsert(
            connection,
            lead_seen,
            ["crm", "lead_id"],
            crm=crm,
            lead_id=lead.id,
            stage=lead.stage_id,
            pipeline=lead.pipeline_id,
            stage_name=lead.stage,
            pipeline_name=lead.pipeline,
            responsible=responsible,
            updated_at=now,
        )
    )


def record(
    connection: Connection,
    crm: str,
    lead: Lead,
    decision: Decision,
    policy: Policy,
    before: RoutingState,
    now: datetime,
    *,
    purpose: str = "new",
    extra: Sequence[CrmWrite] = (),
    kind: str = "decision",
) -> int:
    """Store an ASSIGN decision and everything that follows from it; returns the assignment id."""
    assert decision.assignee is not None
    reason = Renderer(policy).reason(decision)
    data = {**decision_to_dict(decision), "lead": {"source": lead.source, "price": lead.price}}
    manager = policy.managers[decision.assignee]
    assignment_id = insert_assignment(
        connection,
        crm=crm,
        lead_id=lead.id,
        purpose=purpose,
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
    if assignment_id is None:
        raise AlreadyAssigned(f"{crm} lead {lead.id} already assigned for {purpose}")
    save_routing_state(connection, before, apply_decision(before, decision, policy), now)
    enqueue_writes(connection, crm, [*writes_for(decision, policy, now, reason), *extra], now, assignment_id)
    remember(connection, crm, lead, manager.crm_user_id, now)
    write_audit(
        connection,
        kind,
        reason,
        at=now,
        crm=crm,
        lead_id=lead.id,
        manager=manager.key,
        config_version=policy.version,
        detail={**data, "purpose": purpose},
    )
    return assignment_id
