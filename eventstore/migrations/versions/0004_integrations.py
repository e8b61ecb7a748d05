"""Integrations: webhook subscriptions, deliveries, inbox and dead letters; audit indexes.

Revision ID: 0004
Revises: 0003

The tables are declared in integrations/tables.py. The index tables are derived data
(rebuildable from the events); the webhook tables are operational state.
"""

from alembic import op

from integrations import tables as t

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t.metadata.create_all(op.get_bind(), tables=[*t.INDEX_TABLES, *t.WEBHOOK_TABLES])


def downgrade() -> None:
    t.metadata.drop_all(op.get_bind(), tables=[*t.INDEX_TABLES, *t.WEBHOOK_TABLES])
