"""Alembic migrations of our schema."""
