"""Pool counters beyond counts: value received, per-tier rotations and junk credits (branch `value`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add pool_state.ledger (NULL: a pool balancing by count with no junk credit)."""
    with op.batch_alter_table("pool_state") as batch:
        batch.add_column(sa.Column("ledger", sa.JSON, nullable=True))


def downgrade() -> None:
    """Drop pool_state.ledger."""
    with op.batch_alter_table("pool_state") as batch:
        batch.drop_column("ledger")
