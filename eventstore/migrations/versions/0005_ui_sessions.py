"""Web UI sessions: the revoked session ids that sign-out writes.

Revision ID: 0005
Revises: 0004

The table is declared in api/ui/tables.py. Operational state (not rebuilt from the events);
rows older than a session's lifetime are purged by the application (api/ui/revocations.py).
"""

from alembic import op

from api.ui import tables as t

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t.metadata.create_all(op.get_bind(), tables=t.UI_TABLES)


def downgrade() -> None:
    t.metadata.drop_all(op.get_bind(), tables=t.UI_TABLES)
