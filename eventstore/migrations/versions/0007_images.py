"""IIIF images and image servers (issue 10), and the orientation of elements.

Revision ID: 0007
Revises: 0005

Derived data like 0003, filled by the `documents` projection (a rebuild re-fills them):
rm_image_servers and rm_images (projections/image_tables.py), and rm_elements' rotation_angle
and mirrored (set by PartialUpdateElement; base-worker applies them when it opens an image).

Frozen like the other revisions: written out with `op.create_table` / `op.add_column`, so later
model changes never change what this revision creates.
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
    with op.batch_alter_table("rm_elements") as batch:
        batch.add_column(sa.Column("rotation_angle", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("mirrored", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("rm_elements") as batch:
        batch.drop_column("mirrored")
        batch.drop_column("rotation_angle")
    op.drop_table("rm_images")
    op.drop_table("rm_image_servers")
