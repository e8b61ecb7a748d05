"""Projectors of the image events (issue 10) into rm_image_servers / rm_images, and of
PartialUpdateElement's ElementUpdated (zones, orientation) into rm_elements. Pure functions, one
upsert or update per event, like projections/documents.py."""

from __future__ import annotations

from eventstore import StoredEvent
from projections.image_tables import IMAGE_TABLES
from projections.ops import Op, Update, Upsert


def on_image_server_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_image_servers",
            {"server_id": p["server_id"]},
            {
                "url": p["url"],
                "display_name": p["display_name"],
                "version": p["version"],
                "max_width": p.get("max_width"),
                "max_height": p.get("max_height"),
            },
        )
    ]


def on_image_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_images",
            {"image_id": p["image_id"]},
            {
                "server_id": p["server_id"],
                "url": p["url"],
                "path": p["path"],
                "width": p["width"],
                "height": p["height"],
                "status": p["status"],
                "user_id": p["user_id"],
                "created_at": e.occurred_at,
                "created_position": e.global_position,
            },
        )
    ]


def on_image_status_updated(e: StoredEvent) -> list[Op]:
    return [Update("rm_images", {"image_id": e.payload["image_id"]}, {"status": e.payload["status"]})]


#: ElementUpdated change keys -> rm_elements columns (the same names)
ELEMENT_COLUMNS = ("type", "name", "polygon", "image_id", "confidence", "rotation_angle", "mirrored")


def on_element_updated(e: StoredEvent) -> list[Op]:
    """PartialUpdateElement: the changed fields of the element's row (its zone included)."""
    changes = e.payload.get("changes", {})
    values = {column: changes[column] for column in ELEMENT_COLUMNS if column in changes}
    return [Update("rm_elements", {"element_id": e.payload["element_id"]}, values)] if values else []


PROJECTORS = {
    "ImageServerCreated": on_image_server_created,
    "ImageCreated": on_image_created,
    "ImageStatusUpdated": on_image_status_updated,
    "ElementUpdated": on_element_updated,
}

# Importing the tables registers them in the read models' MetaData (projections/apply.py).
TABLES = tuple(table.name for table in IMAGE_TABLES)
