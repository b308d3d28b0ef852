"""The schema, one `MetaData` for SQLite and PostgreSQL; Alembic migrations create and upgrade it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out — on SQLite too, which stores no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT on PostgreSQL, but INTEGER on SQLite so the primary key stays the rowid alias.
Id = BigInteger().with_variant(Integer(), "sqlite")
Moment = UtcDateTime()

inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("crm", String(16), nullable=False),
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("event", String(40), nullable=False),
    Column("lead_id", String(40)),
    Column("payload", JSON, nullable=False),
    Column("received_at", Moment, nullable=False),
    Index(None, "received_at"),  # retention blanks old bodies
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("crm", String(16), nullable=False),
    Column("lead_id", String(40)),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # pending | running | done | failed | cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_at", Moment, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_expires", Moment),
    Column("last_error", Text),
    Column("created_at", Moment, nullable=False),
    Column("updated_at", Moment, nullable=False),
    Index(None, "state", "run_at"),
    Index(None, "crm", "lead_id"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("crm", String(16), nullable=False),
    Column("lead_id", String(40), nullable=False),
    Column("purpose", String(64), nullable=False),  # "new", or a handoff name
    Column("manager", String(64), nullable=False),
    Column("crm_user_id", BigInteger, nullable=False),
    Column("rule", String(120)),
    Column("pool", String(120)),
    Column("strategy", String(32)),
    Column("route", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decision", JSON, nullable=False),
    Column("config_version", String(32), nullable=False),
    Column("decided_at", Moment, nullable=False),
    UniqueConstraint("crm", "lead_id", "purpose"),
    Index(None, "manager", "decided_at"),
    Index(None, "decided_at"),
    Index(None, "purpose", "decided_at", "pool", "manager"),  # the admin page's split, index only
)

pool_state = Table(
    "pool_state",
    metadata,
    Column("pool", String(120), primary_key=True),
    Column("counts", JSON, nullable=False),
    Column("last", String(64)),
    Column("present", JSON, nullable=False),
    Column("updated_at", Moment, nullable=False),
)

manager_load = Table(
    "manager_load",
    metadata,
    Column("manager", String(64), primary_key=True),
    Column("day", Date),
    Column("today", Integer, nullable=False, default=0),
    Column("open", Integer, nullable=False, default=0),
)

pauses = Table(
    "pauses",
    metadata,
    Column("manager", String(64), primary_key=True),
    Column("until", Moment),
    Column("reason", Text, nullable=False, default=""),
    Column("created_by", String(120), nullable=False, default=""),
    Column("created_at", Moment, nullable=False),
)

lead_seen = Table(
    "lead_seen",
    metadata,
    Column("crm", String(16), primary_key=True),
    Column("lead_id", String(40), primary_key=True),
    Column("stage", String(120)),
    Column("pipeline", String(120)),
    Column("responsible", BigInteger),
    Column("updated_at", Moment, nullable=False),
    Column("stage_name", String(200)),
    Column("pipeline_name", String(200)),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("crm", String(16), nullable=False),
    Column("lead_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # pending | sending | sent | dead | cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Moment, nullable=False),
    Column("lease_expires", Moment),
    Column("last_error", Text),
    Column("assignment_id", Id),
    Column("created_at", Moment, nullable=False),
    Column("sent_at", Moment),
    Index(None, "state", "next_attempt_at"),
    Index(None, "lead_id", "kind"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Moment, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("crm", String(16)),
    Column("lead_id", String(40)),
    Column("manager", String(64)),
    Column("config_version", String(32)),
    Column("message", Text, nullable=False),
    Column("detail", JSON, nullable=False),
    Index(None, "lead_id"),
    Index(None, "manager", "at"),
    Index(None, "at"),
)

kv = Table(
    "kv",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", Moment, nullable=False),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("worker", String(64), primary_key=True),
    Column("seen_at", Moment, nullable=False),
)

config_versions = Table(
    "config_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("version", String(32), nullable=False),
    Column("path", Text, nullable=False),
    Column("source", LargeBinary, nullable=False),  # the file's bytes, exactly as loaded
    Column("loaded_at", Moment, nullable=False),
    Column("loaded_by", String(120), nullable=False),  # startup | reload (cli) | sighup | admin
)

decision_inputs = Table(
    "decision_inputs",
    metadata,
    # What a new-lead decision read, kept so a what-if replays it faithfully; purged by retention.
    Column("assignment_id", Id, primary_key=True, autoincrement=False),
    Column("decided_at", Moment, nullable=False),
    Column("lead", JSON, nullable=False),  # every field of the lead as the CRM gave it
    Column("state", JSON, nullable=False),  # pauses, the pool's counters and its members' loads
    Column("personal_purged_at", Moment),  # names, phones, e-mails blanked by retention
    Index(None, "decided_at"),
)

split_adjustments = Table(
    "split_adjustments",
    metadata,
    # A person's responsible change counted toward the new owner's share (overrides.count_toward_share):
    # -1 for the one who lost the lead, +1 for the one who got it, dated when the lead was decided.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("decided_at", Moment, nullable=False),
    Column("pool", String(120), nullable=False),
    Column("manager", String(64), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("crm", String(16), nullable=False),
    Column("lead_id", String(40), nullable=False),
    Column("at", Moment, nullable=False),
    Index(None, "decided_at"),
)

lead_lives = Table(
    "lead_lives",
    metadata,
    # The lifecycle's state of each lead we routed (core.lifecycle_types.LeadLife as JSON).
    Column("crm", String(16), primary_key=True),
    Column("lead_id", String(40), primary_key=True),
    Column("life", JSON, nullable=False),
    Column("updated_at", Moment, nullable=False),
)

client_owners = Table(
    "client_owners",
    metadata,
    # Who holds each client now (the client follows the deal): our decisions, handoffs and people's
    # changes. Continuity reads this first; the CRM's contact responsible only for a client never seen.
    Column("crm", String(16), primary_key=True),
    Column("client_key", String(120), primary_key=True),
    Column("manager", String(64)),
    Column("crm_user_id", BigInteger, nullable=False),
    Column("seen_at", Moment, nullable=False),
)

lead_events = Table(
    "lead_events",
    metadata,
    # What the lifecycle was told after a lead's first decision (an update: the lead as read, when
    # the CRM says it changed, whether our write was pending), for what-if to replay the whole life.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("crm", String(16), nullable=False),
    Column("lead_id", String(40), nullable=False),
    Column("at", Moment, nullable=False),  # when we handled it
    Column("lead", JSON, nullable=False),
    Column("changed_at", Moment),  # the CRM's time of the change, when it said
    Column("write_pending", Boolean, nullable=False, default=False),
    Column("personal_purged_at", Moment),
    Index(None, "at"),
)
