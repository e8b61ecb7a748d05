"""Web UI sessions: the revoked session ids that sign-out writes.

Revision ID: 0005
Revises: 0004

Operational state (not rebuilt from the events); rows older than a session's lifetime are purged by
the application (api/ui/revocations.py).

Frozen: the tables exactly as they were at this revision, written out with `op.create_table` so
that later changes to the models (projections/tables.py, integrations/tables.py, api/ui/tables.py)
never change what this revision creates; a change ships as a new migration.
tests/integration/test_migrations.py fails when the models and the migrations disagree.
"""

import sqlalchemy as sa
from alembic import op

from eventstore.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ui_session_revocations",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_ui_session_revocations")),
    )
    op.create_index(
        "ix_ui_session_revocations_revoked_at", "ui_session_revocations", ["revoked_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("ui_session_revocations")
