"""Read models and projection bookkeeping (rebuildable: never touches the events).

Revision ID: 0002
Revises: 0001

The read-model tables are created from projections/tables.py. They are derived data: a
change to one of them ships as a new migration that creates the new shape and a projection
rebuild that fills it, never as an ALTER of event-store tables.
"""

import sqlalchemy as sa
from alembic import op

from projections import tables as t

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = [
    t.projection_state, t.projection_checkpoints, t.dead_letters, t.projection_failures,
    t.rm_users, t.rm_worker_types, t.rm_workers, t.rm_worker_access, t.rm_worker_versions,
    t.rm_worker_configurations, t.rm_models, t.rm_model_versions, t.rm_user_runs,
]


def upgrade() -> None:
    bind = op.get_bind()
    t.metadata.create_all(bind, tables=TABLES)
    if bind.dialect.name == "postgresql":
        # Case-insensitive substring search on worker names ("name contains") served by a
        # trigram index; pg_trgm lives in `public` so every schema can use its operator class.
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
        bind.execute(sa.text(
            "CREATE INDEX ix_rm_workers_name_trgm ON rm_workers USING gin (name public.gin_trgm_ops)"
        ))


def downgrade() -> None:
    t.metadata.drop_all(op.get_bind(), tables=list(reversed(TABLES)))
