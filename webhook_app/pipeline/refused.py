"""A write the CRM refused because its user cannot own leads (deactivated, fired, a free seat):
never a dead letter. The user is recorded as refused (no decision picks them again, in any pool,
before the next team sync confirms it), the assignment's unsent writes are void, and the lead is
routed again by a `reroute` job through the lifecycle (core/refused.py), audited.

The same happens, without asking the CRM, to a responsible write whose user the last team sync
already lists as inactive: a decision taken just before the sync must not reach the CRM (Bitrix24
does not document refusing a dismissed user as the responsible, so there the sync is what tells).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine

from adapters.storage.engine import reading
from adapters.storage.outbox import OutboxItem, mark_rerouted
from adapters.storage.queue import enqueue
from adapters.storage.routing import assignment_pool, find_assignment, insert_split_adjustments
from adapters.storage.teams import add_refused, read_team
from core.decision import Decision, Route, StepCode
from core.kinds import AuditKind, JobKind
from core.ports import WriteKind, WriteResult, WriteStatus

INACTIVE_AT_SYNC = "the CRM lists this user as deactivated or fired (team sync); not sent"


def credit_reroute(connection: Connection, crm: str, lead_id: str, decision: Decision, now: datetime) -> None:
    """A lead routed again in the pool it was first decided in moves, in the pool's split, from the
    refused person to whoever got it (as an override counted toward the new owner does)."""
    refused = next(
        (s.params.get("manager") for s in decision.steps if s.code is StepCode.OWNER_REFUSED), None
    )
    first = find_assignment(connection, crm, lead_id)
    if refused is None or decision.assignee is None or decision.route is not Route.POOL:
        return
    if first is None or first.pool != decision.pool or first.route != Route.POOL.value:
        return
    rows = [
        {"decided_at": first.decided_at, "pool": first.pool, "manager": key, "delta": delta}
        for key, delta in ((refused, -1), (decision.assignee, 1))
    ]
    insert_split_adjustments(connection, [{**r, "crm": crm, "lead_id": lead_id, "at": now} for r in rows])


def known_refusals(engine: Engine, crm: str, items: Sequence[OutboxItem]) -> dict[int, WriteResult]:
    """Results, by position, for responsible writes to users the team sync found inactive."""
    owners = [i for i, item in enumerate(items) if item.write.kind is WriteKind.RESPONSIBLE]
    if not owners:
        return {}
    with reading(engine) as connection:
        team, _ = read_team(connection, crm)
    inactive = team.inactive_users()
    refused = WriteResult(WriteStatus.PERMANENT, INACTIVE_AT_SYNC, owner_refused=True)
    return {i: refused for i in owners if items[i].write.user_id in inactive}


def reroute(
    connection: Connection, item: OutboxItem, result: WriteResult, now: datetime
) -> tuple[AuditKind, str]:
    """Void the refused assignment's writes and queue the lead to be routed again."""
    user = item.write.user_id
    if user is not None:
        add_refused(connection, item.crm, user, now)
    pool = assignment_pool(connection, item.assignment_id) if item.assignment_id is not None else None
    mark_rerouted(connection, item, result.error)
    data = {"user": str(user or ""), "pool": pool or ""}
    enqueue(connection, JobKind.REROUTE, item.crm, item.lead_id, data, now, now)
    message = f"the CRM refused user {user} as the responsible ({result.error}); the lead is routed again"
    return AuditKind.OWNER_REFUSED, message
