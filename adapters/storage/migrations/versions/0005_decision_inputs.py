"""Store what each new-lead decision read (the lead, pauses, pool counters, loads) for what-if;
index the inbox by arrival for the retention purge; overrides counted toward the split.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.storage.tables import Id, Moment

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the decision_inputs table."""
    op.create_table(
        "decision_inputs",
        sa.Column("assignment_id", Id, primary_key=True, autoincrement=False),
        sa.Column("decided_at", Moment, nullable=False),
        sa.Column("lead", sa.JSON, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("personal_purged_at", Moment),
    )
    op.create_index("ix_decision_inputs_decided_at", "decision_inputs", ["decided_at"])
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"])
    op.create_table(
        "split_adjustments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("decided_at", Moment, nullable=False),
        sa.Column("pool", sa.String(120), nullable=False),
        sa.Column("manager", sa.String(64), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("lead_id", sa.String(40), nullable=False),
        sa.Column("at", Moment, nullable=False),
    )
    op.create_index("ix_split_adjustments_decided_at", "split_adjustments", ["decided_at"])


def downgrade() -> None:
    """Drop the tables and the index."""
    op.drop_table("split_adjustments")
    op.drop_index("ix_inbox_received_at", table_name="inbox")
    op.drop_table("decision_inputs")
