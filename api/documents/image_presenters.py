"""Image read-model rows -> Arkindex shapes (issue 10): images, their servers, element zones."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from domain.image import zone_url

Row = Mapping[Any, Any]

#: zone ids are derived from their element's id: stable, and never an element's own id
ZONE_NAMESPACE = uuid.UUID("6f1d3c7e-2b8a-4e59-9d0c-71a4b5e2c8f3")


def image(row: Row, image_id: str | None = None) -> dict[str, Any]:
    """An image from a row with IMAGE_COLUMNS (projections/image_queries.py)."""
    return {
        "id": image_id or row["image_id"],
        "path": row["image_path"],
        "url": row["image_url"],
        "width": row["image_width"],
        "height": row["image_height"],
        "status": row["image_status"],
        # Pixels always come from the IIIF server: there is no object storage here.
        "s3_url": None,
        # No server id: Arkindex sends none, and the CLI's `--db` export copies this dict into
        # its own table, whose integer primary key a UUID would break.
        "server": {
            "url": row["server_url"],
            "display_name": row["server_display_name"],
            "version": row["server_version"],
            "max_width": row["server_max_width"],
            "max_height": row["server_max_height"],
        },
    }


def zone(row: Row) -> dict[str, Any] | None:
    """An element's zone: its polygon on its image and the IIIF URL of the polygon's bounding
    box (what base-worker's `element.open_image()` downloads); None without an image."""
    if row.get("image_id") is None or row.get("image_url") is None or not row.get("polygon"):
        return None
    polygon = [[int(x), int(y)] for x, y in row["polygon"]]
    return {
        "id": str(uuid.uuid5(ZONE_NAMESPACE, str(row["element_id"]))),
        "url": zone_url(row["image_url"], polygon, row["server_version"]),
        "polygon": polygon,
        "image": image(row, row["image_id"]),
    }
