"""Initial schema: inbox, jobs, assignments, pool state, loads, pauses, outbox, audit, kv.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.storage.tables import Id, Moment

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the first version."""
    op.create_table(
        "inbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("lead_id", sa.String(40)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", Moment, nullable=False),
        sa.UniqueConstraint("dedup_key", name="uq_inbox_dedup_key"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("lead_id", sa.String(40)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("run_at", Moment, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires", Moment),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
    )
    op.create_index("ix_jobs_state_run_at", "jobs", ["state", "run_at"])
    op.create_index("ix_jobs_crm_lead_id", "jobs", ["crm", "lead_id"])
    op.create_table(
        "assignments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("lead_id", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("manager", sa.String(64), nullable=False),
        sa.Column("crm_user_id", sa.BigInteger, nullable=False),
        sa.Column("rule", sa.String(120)),
        sa.Column("pool", sa.String(120)),
        sa.Column("strategy", sa.String(32)),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("config_version", sa.String(32), nullable=False),
        sa.Column("decided_at", Moment, nullable=False),
        sa.UniqueConstraint("crm", "lead_id", "purpose", name="uq_assignments_crm_lead_id_purpose"),
    )
    op.create_index("ix_assignments_manager_decided_at", "assignments", ["manager", "decided_at"])
    op.create_index("ix_assignments_decided_at", "assignments", ["decided_at"])
    op.create_table(
        "pool_state",
        sa.Column("pool", sa.String(120), primary_key=True),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("last", sa.String(64)),
        sa.Column("present", sa.JSON, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
    )
    op.create_table(
        "manager_load",
        sa.Column("manager", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date),
        sa.Column("today", sa.Integer, nullable=False),
        sa.Column("open", sa.Integer, nullable=False),
    )
    op.create_table(
        "pauses",
        sa.Column("manager", sa.String(64), primary_key=True),
        sa.Column("until", Moment),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
    )
    op.create_table(
        "lead_seen",
        sa.Column("crm", sa.String(16), primary_key=True),
        sa.Column("lead_id", sa.String(40), primary_key=True),
        sa.Column("stage", sa.String(120)),
        sa.Column("pipeline", sa.String(120)),
        sa.Column("responsible", sa.BigInteger),
        sa.Column("updated_at", Moment, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("lead_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Moment, nullable=False),
        sa.Column("lease_expires", Moment),
        sa.Column("last_error", sa.Text),
        sa.Column("assignment_id", Id),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("sent_at", Moment),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_table(
        "audit",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", Moment, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("crm", sa.String(16)),
        sa.Column("lead_id", sa.String(40)),
        sa.Column("manager", sa.String(64)),
        sa.Column("config_version", sa.String(32)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_lead_id", "audit", ["lead_id"])
    op.create_index("ix_audit_manager_at", "audit", ["manager", "at"])
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_table(
        "kv",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
    )
    op.create_table(
        "heartbeats",
        sa.Column("worker", sa.String(64), primary_key=True),
        sa.Column("seen_at", Moment, nullable=False),
    )


def downgrade() -> None:
    """Drop everything (only for tests of the migration itself)."""
    for table in (
        "heartbeats", "kv", "audit", "outbox", "lead_seen", "pauses", "manager_load",
        "pool_state", "assignments", "jobs", "inbox",
    ):  # fmt: skip
        op.drop_table(table)
