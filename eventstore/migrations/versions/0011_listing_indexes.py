"""Indexes for the listings users wait on (issue 11, `list`).

Revision ID: 0011
Revises: 0010

- `ix_rm_workers_owner_name` (generation, owner_id, name, worker_id, archived) replaces
  `ix_rm_workers_owner` (generation, owner_id): "my workers", by name, is one index range
  (projections/queries.py `list_workers` reads the visible workers as owned UNION ALL granted),
  counted by an index-only scan (`archived` is in the index for the default `archived=false`).
- PostgreSQL: the trigram index on worker names gains the generation every read query filters
  on: GIN (generation, name gin_trgm_ops), which needs the `btree_gin` extension for the
  integer column (a contrib module, trusted since PostgreSQL 13: the database owner can create
  it). Where it cannot be created (contrib not installed), the name-only trigram index of 0002
  stays and a warning says so: the search is then answered without it (slower for admins, who
  search every worker; users search their own workers by the index above either way).

Frozen like the others: it imports no model.
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.drop_index("ix_rm_workers_owner", table_name="rm_workers")
    op.create_index(
        "ix_rm_workers_owner_name", "rm_workers", ["generation", "owner_id", "name", "worker_id", "archived"],
        unique=False,
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        # Like pg_trgm in 0002: in `public`, so every schema can use it; in a savepoint, so a
        # server without contrib (or a concurrent CREATE) leaves this transaction usable.
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public")
    except sa.exc.DBAPIError as exc:
        if not _has_btree_gin(bind):
            log.warning("btree_gin is not available (%s): the worker name search keeps the trigram index "
                        "without the generation (ix_rm_workers_name_trgm)", exc.orig)
            return
    op.execute("DROP INDEX IF EXISTS ix_rm_workers_name_trgm")
    op.execute(
        "CREATE INDEX ix_rm_workers_generation_name_trgm ON rm_workers "
        "USING gin (generation, name public.gin_trgm_ops)"
    )


def _has_btree_gin(bind: sa.Connection) -> bool:
    return bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'btree_gin'")).first() is not None


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_rm_workers_generation_name_trgm")
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_rm_workers_name_trgm ON rm_workers "
            "USING gin (name public.gin_trgm_ops)"
        )
        # btree_gin stays: other schemas of the database may use it.
    op.drop_index("ix_rm_workers_owner_name", table_name="rm_workers")
    op.create_index("ix_rm_workers_owner", "rm_workers", ["generation", "owner_id"], unique=False)
