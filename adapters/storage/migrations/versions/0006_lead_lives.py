"""The lead lifecycle's state per lead, who holds each client (filled from the assignments), and the
updates the lifecycle was told (for what-if to replay the whole life).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.storage.tables import Id, Moment

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create lead_lives and client_owners; a client's holder is the newest owner of its newest lead."""
    op.create_table(
        "lead_lives",
        sa.Column("crm", sa.String(16), primary_key=True),
        sa.Column("lead_id", sa.String(40), primary_key=True),
        sa.Column("life", sa.JSON, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
    )
    op.create_table(
        "client_owners",
        sa.Column("crm", sa.String(16), primary_key=True),
        sa.Column("client_key", sa.String(120), primary_key=True),
        sa.Column("manager", sa.String(64)),
        sa.Column("crm_user_id", sa.BigInteger, nullable=False),
        sa.Column("seen_at", Moment, nullable=False),
    )
    op.create_table(
        "lead_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("lead_id", sa.String(40), nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("lead", sa.JSON, nullable=False),
        sa.Column("changed_at", Moment),
        sa.Column("write_pending", sa.Boolean, nullable=False),
        sa.Column("personal_purged_at", Moment),
    )
    op.create_index("ix_lead_events_at", "lead_events", ["at"])
    _fill_client_owners()


def _fill_client_owners() -> None:
    """Existing databases: each client's holder from the assignments already stored.

    A lead's client is in the input stored with its first decision; its holder is the lead's newest
    assignment (a handoff included). For a client with several leads the newest assignment wins.
    """
    bind = op.get_bind()
    meta = sa.MetaData()
    assignments = sa.Table("assignments", meta, autoload_with=bind)
    inputs = sa.Table("decision_inputs", meta, autoload_with=bind)
    owners = sa.Table("client_owners", meta, autoload_with=bind)
    first = (
        sa.select(assignments.c.crm, assignments.c.lead_id, inputs.c.lead)
        .join(inputs, inputs.c.assignment_id == assignments.c.id)
        .where(assignments.c.purpose == "new")
    )
    clients = {}
    for row in bind.execute(first):
        key = (row.lead or {}).get("client_key")
        if key:
            clients[(row.crm, row.lead_id)] = str(key)[:120]
    newest: dict[tuple[str, str], tuple[object, str, int]] = {}
    query = sa.select(
        assignments.c.crm,
        assignments.c.lead_id,
        assignments.c.manager,
        assignments.c.crm_user_id,
        assignments.c.decided_at,
    ).order_by(assignments.c.decided_at, assignments.c.id)
    for held in bind.execute(query):
        key = clients.get((held.crm, held.lead_id))
        if key is not None:
            newest[(held.crm, key)] = (held.decided_at, held.manager, held.crm_user_id)
    rows = [
        {"crm": crm, "client_key": key, "manager": manager, "crm_user_id": user, "seen_at": at}
        for (crm, key), (at, manager, user) in newest.items()
    ]
    if rows:
        bind.execute(owners.insert(), rows)


def downgrade() -> None:
    """Drop the tables."""
    op.drop_index("ix_lead_events_at", table_name="lead_events")
    op.drop_table("lead_events")
    op.drop_table("client_owners")
    op.drop_table("lead_lives")
