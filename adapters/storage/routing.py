"""The routing state in the database: pool counters, manager loads, pauses, assignments.

The decision transaction locks every pool row first (in name order, so two workers can never
deadlock): decisions are then strictly serial, which is what keeps round-robin order and weighted
shares exactly as one worker would give them, however many workers run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from adapters.storage.ledger import ledger_to_json, pool_state_from
from adapters.storage.pausing import current_pauses
from adapters.storage.sql import insert_ignore, locked, upsert
from adapters.storage.tables import assignments, manager_load, pool_state, split_adjustments
from core.state import ManagerLoad, RoutingState


def load_routing_state(connection: Connection, pools: Iterable[str], now: datetime) -> RoutingState:
    """Lock every pool row (creating missing ones) and read the state a decision needs."""
    names = sorted(pools)
    for name in names:
        connection.execute(
            insert_ignore(
                connection, pool_state, ["pool"], pool=name, counts={}, last=None, present=[], updated_at=now
            )
        )
    query = select(pool_state).where(pool_state.c.pool.in_(names)).order_by(pool_state.c.pool)
    pool_rows = connection.execute(locked(connection, query)).all()
    return RoutingState(
        pools={r.pool: pool_state_from(r.counts, r.last, r.present, r.ledger) for r in pool_rows},
        loads=manager_loads(connection),
        paused=current_pauses(connection),
    )


def manager_loads(connection: Connection) -> dict[str, ManagerLoad]:
    """Every manager's stored load (leads today, open leads), by manager."""
    return {r.manager: ManagerLoad(r.day, r.today, r.open) for r in connection.execute(select(manager_load))}


def save_routing_state(
    connection: Connection,
    before: RoutingState,
    after: RoutingState,
    now: datetime,
    offsets: Mapping[str, int] | None = None,
) -> None:
    """Write back the pools and loads a decision changed. `offsets` is what the state's open loads
    were raised by over the stored ones (`load: crm`): the table keeps counting leads we handed out."""
    offsets = offsets or {}
    for name, state in after.pools.items():
        if before.pools.get(name) != state:
            connection.execute(
                pool_state.update()
                .where(pool_state.c.pool == name)
                .values(
                    counts=dict(state.counts),
                    last=state.last,
                    present=sorted(state.present),
                    ledger=ledger_to_json(state),
                    updated_at=now,
                )
            )
    for key, load in after.loads.items():
        if before.loads.get(key) != load:
            connection.execute(
                upsert(
                    connection,
                    manager_load,
                    ["manager"],
                    manager=key,
                    day=load.day,
                    today=load.today,
                    open=max(load.open - offsets.get(key, 0), 0),
                )
            )


def find_assignment(connection: Connection, crm: str, lead_id: str, purpose: str = "new") -> Any:
    """The assignment row for a lead and purpose, or None."""
    query = select(assignments).where(
        assignments.c.crm == crm, assignments.c.lead_id == lead_id, assignments.c.purpose == purpose
    )
    return connection.execute(query).first()


def insert_assignment(connection: Connection, **values: Any) -> int | None:
    """Insert an assignment; None if the lead already has one for that purpose (a lost race)."""
    stmt = insert_ignore(connection, assignments, ["crm", "lead_id", "purpose"], **values)
    result = connection.execute(stmt.returning(assignments.c.id))
    row = result.first()
    return int(row[0]) if row is not None else None


def assigned_leads(
    connection: Connection, crm: str, lead_ids: Iterable[str], purpose: str = "new"
) -> set[str]:
    """Which of these leads already have an assignment for the purpose (`find_assignment` for many)."""
    wanted = sorted(set(lead_ids))
    if not wanted:
        return set()
    query = select(assignments.c.lead_id).where(
        assignments.c.crm == crm, assignments.c.lead_id.in_(wanted), assignments.c.purpose == purpose
    )
    return set(connection.execute(query).scalars())


def insert_assignments(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many assignments; their ids, in the order given. A lead that already has one for the
    purpose raises IntegrityError (callers check first, under the pool lock, so it means a bug)."""
    if not rows:
        return []
    stmt = assignments.insert().returning(assignments.c.id, sort_by_parameter_order=True)
    return [int(i) for i in connection.execute(stmt, list(rows)).scalars()]


def insert_split_adjustments(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store the -1/+1 share moves of an override counted toward the new owner (one executemany)."""
    connection.execute(split_adjustments.insert(), list(rows))


def assignment_pool(connection: Connection, assignment_id: int) -> str | None:
    """The pool an assignment was decided in (None: continuity, a fallback, a return)."""
    row = connection.execute(select(assignments.c.pool).where(assignments.c.id == assignment_id)).first()
    return row.pool if row is not None else None
