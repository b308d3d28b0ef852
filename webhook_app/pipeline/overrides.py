"""Counting a person's responsible change toward the new owner's share (`overrides.count_toward_share`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from adapters.storage.routing import (
    find_assignment,
    insert_split_adjustments,
    load_routing_state,
    save_routing_state,
)
from core.overrides import apply_override
from core.policy import Policy


def count_override(
    connection: Connection,
    policy: Policy,
    crm: str,
    lead_id: str,
    previous_user: int | None,
    new_user: int | None,
    now: datetime,
) -> dict[str, Any] | None:
    """Move the lead's share from the previous to the new responsible, if the config counts
    overrides and the lead came through a pool; what moved (for the audit), else None."""
    if not policy.count_overrides:
        return None
    row = find_assignment(connection, crm, lead_id)
    if row is None or row.pool is None or row.route != "pool":
        return None  # continuity and fallbacks are not shares of a pool
    previous = policy.by_user_id.get(previous_user) if previous_user is not None else None
    new = policy.by_user_id.get(new_user) if new_user is not None else None
    if previous == new:
        return None
    before = load_routing_state(connection, policy.pools, now)
    lead, detail = row.decision.get("lead") or {}, row.decision.get("detail") or {}
    value = lead.get("value")
    worth = float(value) if isinstance(value, int | float) else 0.0
    after = apply_override(
        before, policy, row.pool, previous, new, row.decided_at, now, value=worth, tier=detail.get("tier")
    )
    save_routing_state(connection, before, after, now)
    rows = [
        {"decided_at": row.decided_at, "pool": row.pool, "manager": key, "delta": delta}
        for key, delta in ((previous, -1), (new, 1))
        if key is not None
    ]
    insert_split_adjustments(connection, [{**r, "crm": crm, "lead_id": lead_id, "at": now} for r in rows])
    return {"pool": row.pool, "from": previous, "to": new}
