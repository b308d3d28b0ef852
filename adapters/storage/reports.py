"""What `leadrouter report` aggregates: the decisions of a period and the deals won or lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from adapters.storage.tables import assignments, audit


def decisions_between(connection: Connection, since: datetime, until: datetime) -> Sequence[Any]:
    """Every assignment row decided in [since, until)."""
    query = select(assignments).where(assignments.c.decided_at >= since, assignments.c.decided_at < until)
    return connection.execute(query).all()


def closed_between(connection: Connection, since: datetime, until: datetime) -> Sequence[Any]:
    """Every `won` or `lost` audit row in [since, until)."""
    query = select(audit).where(audit.c.kind.in_(["won", "lost"]), audit.c.at >= since, audit.c.at < until)
    return connection.execute(query).all()


def credits_between(connection: Connection, since: datetime, until: datetime) -> Sequence[Any]:
    """Every junk credit granted (`junk_credit` audit row) in [since, until)."""
    query = select(audit).where(audit.c.kind == "junk_credit", audit.c.at >= since, audit.c.at < until)
    return connection.execute(query).all()
