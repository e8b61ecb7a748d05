"""Projectors of the image events (issue 10) into rm_image_servers / rm_images. Pure functions,
one upsert or update per event, like projections/documents.py."""

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


PROJECTORS = {
    "ImageServerCreated": on_image_server_created,
    "ImageCreated": on_image_created,
    "ImageStatusUpdated": on_image_status_updated,
}

# Importing the tables registers them in the read models' MetaData (projections/apply.py).
TABLES = tuple(table.name for table in IMAGE_TABLES)
