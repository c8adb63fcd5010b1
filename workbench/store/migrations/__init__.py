"""Alembic migrations of the run store (a package so that wheels ship it)."""
