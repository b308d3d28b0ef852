"""Find a lead's queued writes by index: a task or note is claimed only once the lead's responsible
write is settled, and that check (one per candidate row) scanned the outbox without it — 0.8 s per
claim with 30,000 rows queued in a burst.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index the outbox by lead and kind."""
    op.create_index("ix_outbox_lead_id_kind", "outbox", ["lead_id", "kind"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_outbox_lead_id_kind", table_name="outbox")
