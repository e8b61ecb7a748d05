"""Read-model tables of IIIF images and their servers (issue 10), filled by the `documents`
projection (projections/images.py): elements show their zone's image, so both move together.
Same conventions as projections/tables.py (a `generation` column in every primary key)."""

from __future__ import annotations

import sqlalchemy as sa

from eventstore.schema import BigInt, UTCDateTime
from eventstore.schema import metadata as metadata  # re-exported: worker_runs/table_models.py

rm_image_servers = sa.Table(
    "rm_image_servers",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("server_id", sa.String(36), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("display_name", sa.String(250), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("max_width", sa.Integer, nullable=True),
    sa.Column("max_height", sa.Integer, nullable=True),
)

rm_images = sa.Table(
    "rm_images",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("image_id", sa.String(36), primary_key=True),
    sa.Column("server_id", sa.String(36), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_position", BigInt, nullable=False),
)

IMAGE_TABLES = (rm_image_servers, rm_images)
