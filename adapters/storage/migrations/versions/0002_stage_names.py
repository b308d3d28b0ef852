"""Remember the stage and pipeline *names* a lead was last seen in, so a stage move can be
matched against the config's names without asking the CRM what the old stage was called.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two name columns."""
    with op.batch_alter_table("lead_seen") as batch:
        batch.add_column(sa.Column("stage_name", sa.String(200)))
        batch.add_column(sa.Column("pipeline_name", sa.String(200)))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("lead_seen") as batch:
        batch.drop_column("pipeline_name")
        batch.drop_column("stage_name")
