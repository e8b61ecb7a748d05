"""IIIF images and image servers read models (issue 10).

Revision ID: 0007
Revises: 0005

Derived data like 0003: created from projections/image_tables.py, filled by the `documents`
projection (a rebuild re-fills them from the events).
"""

from alembic import op

from projections import image_tables as t

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t.metadata.create_all(op.get_bind(), tables=list(t.IMAGE_TABLES))


def downgrade() -> None:
    t.metadata.drop_all(op.get_bind(), tables=list(reversed(t.IMAGE_TABLES)))
