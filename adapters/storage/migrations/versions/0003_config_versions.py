"""Config versions (every config that was put in force, with its text, so every process can load
the same one and the admin page can show the history and diffs), and an index for the page's split.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.storage.tables import Id, Moment

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `config_versions`, and an index that lets the admin page count a month of decisions
    per pool and manager from the index alone."""
    op.create_index(
        "ix_assignments_purpose_decided_at_pool_manager",
        "assignments",
        ["purpose", "decided_at", "pool", "manager"],
    )
    op.create_table(
        "config_versions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("source", sa.LargeBinary, nullable=False),
        sa.Column("loaded_at", Moment, nullable=False),
        sa.Column("loaded_by", sa.String(120), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("config_versions")
    op.drop_index("ix_assignments_purpose_decided_at_pool_manager", "assignments")
