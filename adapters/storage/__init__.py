"""Our own database: inbox, jobs, assignments, pool state, outbox, audit (SQLAlchemy 2.0 Core)."""
