"""Document read models (corpora, elements, transcriptions, classifications, metadata).

Revision ID: 0003
Revises: 0002

Derived data like 0002: created from projections/tables.py, filled by the `documents`
projection (a rebuild re-fills them from the events).
"""

from alembic import op

from projections import tables as t

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t.metadata.create_all(op.get_bind(), tables=list(t.DOCUMENT_TABLES))


def downgrade() -> None:
    t.metadata.drop_all(op.get_bind(), tables=list(reversed(t.DOCUMENT_TABLES)))
