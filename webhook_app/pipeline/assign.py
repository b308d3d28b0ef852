"""Recording an assignment: the row, the pool state, the CRM writes, what we last saw, the audit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from adapters.storage.audit import audit_row, write_audit_rows
from adapters.storage.inputs import insert_inputs
from adapters.storage.outbox import enqueue_writes
from adapters.storage.routing import insert_assignment, save_routing_state
from adapters.storage.seen import remember_rows, seen_row
from core.decide import apply_decision
from core.decision import Decision, decision_to_dict
from core.kinds import AuditKind
from core.model import Lead
from core.policy import Policy
from core.ports import CrmWrite
from core.reasons import Renderer
from core.state import RoutingState
from core.worth import lead_value
from webhook_app.pipeline.decision_input import lead_to_json, state_to_json
from webhook_app.pipeline.writes import writes_for


class AlreadyAssigned(Exception):
    """The lead already has an assignment for this purpose (another worker won): roll back."""


def remember(connection: Connection, crm: str, lead: Lead, responsible: int | None, now: datetime) -> None:
    """Store the stage, pipeline and responsible we last saw (or set) for a lead."""
    remember_rows(connection, [seen_row(crm, lead, responsible, now)])


@dataclass(frozen=True)
class Planned:
    """An ASSIGN decision as the rows that record it; nothing is stored yet."""

    assignment: dict[str, Any]
    writes: list[CrmWrite]
    seen: dict[str, Any]
    audit: dict[str, Any]
    inputs: dict[str, Any] | None = None  # the decision_inputs row, less its assignment id


def plan(
    crm: str,
    lead: Lead,
    decision: Decision,
    policy: Policy,
    now: datetime,
    *,
    purpose: str = "new",
    extra: Sequence[CrmWrite] = (),
    kind: AuditKind = AuditKind.DECISION,
    renderer: Renderer | None = None,
    before: RoutingState | None = None,
) -> Planned:
    """The assignment row, CRM writes, lead_seen row and audit row of an ASSIGN decision, and
    (for a new lead decided on `before`) what it read, for what-if."""
    assert decision.assignee is not None
    reason = (renderer or Renderer(policy)).reason(decision)
    pool = policy.pools.get(decision.pool or "")
    worth = lead_value(lead, pool.value) if pool is not None else None  # for `report`'s value columns
    data = {
        **decision_to_dict(decision),
        "lead": {"source": lead.source, "price": lead.price, "value": worth},
    }
    manager = policy.managers[decision.assignee]
    assignment = {
        "crm": crm,
        "lead_id": lead.id,
        "purpose": purpose,
        "manager": manager.key,
        "crm_user_id": manager.crm_user_id,
        "rule": decision.rule,
        "pool": decision.pool,
        "strategy": decision.strategy,
        "route": decision.route.value if decision.route else "pool",
        "reason": reason,
        "decision": data,
        "config_version": policy.version,
        "decided_at": now,
    }
    audit = audit_row(
        kind,
        reason,
        at=now,
        crm=crm,
        lead_id=lead.id,
        manager=manager.key,
        config_version=policy.version,
        detail={**data, "purpose": purpose},
    )
    writes = [*writes_for(decision, policy, now, reason), *extra]
    inputs = None
    if purpose == "new" and before is not None:
        state = state_to_json(before, decision, policy)
        inputs = {"decided_at": now, "lead": lead_to_json(lead), "state": state}
    return Planned(assignment, writes, seen_row(crm, lead, manager.crm_user_id, now), audit, inputs)


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
    kind: AuditKind = AuditKind.DECISION,
) -> int:
    """Store an ASSIGN decision and everything that follows from it; returns the assignment id."""
    planned = plan(crm, lead, decision, policy, now, purpose=purpose, extra=extra, kind=kind, before=before)
    assignment_id = insert_assignment(connection, **planned.assignment)
    if assignment_id is None:
        raise AlreadyAssigned(f"{crm} lead {lead.id} already assigned for {purpose}")
    if planned.inputs is not None:
        insert_inputs(connection, [{**planned.inputs, "assignment_id": assignment_id}])
    save_routing_state(connection, before, apply_decision(before, decision, policy), now)
    enqueue_writes(connection, crm, planned.writes, now, assignment_id)
    remember_rows(connection, [planned.seen])
    write_audit_rows(connection, [planned.audit])
    return assignment_id
