"""Integrations: webhook subscriptions, deliveries, inbox and dead letters; audit indexes.

Revision ID: 0004
Revises: 0003
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in with the integration tables (issue 7).
    pass


def downgrade() -> None:
    pass
