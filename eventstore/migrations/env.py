"""Alembic environment: run with a connection given by eventstore.migrate.upgrade()."""

from __future__ import annotations

from alembic import context

from eventstore.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - `alembic` CLI use; the project calls upgrade()
    import sqlalchemy as sa

    connection = sa.create_engine(config.get_main_option("sqlalchemy.url") or "").connect()

# render_as_batch: SQLite cannot ALTER most things; batch mode is safe on both backends.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
