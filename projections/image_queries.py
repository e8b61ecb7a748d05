"""Read queries of the image read models (issue 10), on the `documents` projection's live
generation. Images are shared descriptors of IIIF URLs: every signed-in user may read them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from projections.generations import live_generation
from projections.image_tables import rm_image_servers, rm_images
from projections.queries import Row

DOCUMENTS = "documents"

#: image and server columns, prefixed so they can sit beside an element's own columns
IMAGE_COLUMNS = (
    rm_images.c.url.label("image_url"),
    rm_images.c.path.label("image_path"),
    rm_images.c.width.label("image_width"),
    rm_images.c.height.label("image_height"),
    rm_images.c.status.label("image_status"),
    rm_image_servers.c.server_id.label("server_id"),
    rm_image_servers.c.url.label("server_url"),
    rm_image_servers.c.display_name.label("server_display_name"),
    rm_image_servers.c.version.label("server_version"),
    rm_image_servers.c.max_width.label("server_max_width"),
    rm_image_servers.c.max_height.label("server_max_height"),
)


def _images(conn: sa.Connection) -> sa.Select[Any]:
    g = live_generation(conn, DOCUMENTS)
    return (
        sa.select(rm_images.c.image_id, *IMAGE_COLUMNS)
        .join(
            rm_image_servers,
            sa.and_(
                rm_image_servers.c.generation == g, rm_image_servers.c.server_id == rm_images.c.server_id,
            ),
        )
        .where(rm_images.c.generation == g)
    )


def get_image(conn: sa.Connection, image_id: str) -> Row | None:
    return conn.execute(_images(conn).where(rm_images.c.image_id == image_id)).mappings().first()


def images_by_id(conn: sa.Connection, image_ids: Iterable[str | None]) -> dict[str, Row]:
    """The images of a page of elements, in one query."""
    wanted = sorted({i for i in image_ids if i})
    if not wanted:
        return {}
    rows = conn.execute(_images(conn).where(rm_images.c.image_id.in_(wanted))).mappings().all()
    return {row["image_id"]: row for row in rows}


def with_image(query: sa.Select[Any], conn: sa.Connection, image_id: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """Add the image and server columns (IMAGE_COLUMNS) of `image_id` to a query of elements:
    an outer join, so elements without a zone keep NULLs (zone: null)."""
    g = live_generation(conn, DOCUMENTS)
    return query.add_columns(*IMAGE_COLUMNS).outerjoin(
        rm_images, sa.and_(rm_images.c.generation == g, rm_images.c.image_id == image_id),
    ).outerjoin(
        rm_image_servers,
        sa.and_(rm_image_servers.c.generation == g, rm_image_servers.c.server_id == rm_images.c.server_id),
    )
