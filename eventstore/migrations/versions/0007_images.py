"""IIIF images and image servers read models (issue 10).

Revision ID: 0007
Revises: 0005

Derived data like 0003 (models in projections/image_tables.py), filled by the `documents`
projection (a rebuild re-fills them from the events).

Frozen like the others: written out with `op.create_table`, importing no model.
"""

import sqlalchemy as sa
from alembic import op

from eventstore.schema import UTCDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_image_servers",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("display_name", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("max_width", sa.Integer(), nullable=True),
        sa.Column("max_height", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("generation", "server_id", name=op.f("pk_rm_image_servers")),
    )
    op.create_table(
        "rm_images",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("server_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "image_id", name=op.f("pk_rm_images")),
    )


def downgrade() -> None:
    op.drop_table("rm_images")
    op.drop_table("rm_image_servers")
