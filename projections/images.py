"""Projectors of the image events (issue 10) into rm_image_servers / rm_images, and of
PartialUpdateElement's ElementUpdated (zones, orientation) into rm_elements. Pure functions, one
upsert or update per event, like projections/documents.py."""

from __future__ import annotations

from domain import events as ev
from projections.envelope import Envelope
from projections.image_tables import IMAGE_TABLES
from projections.ops import Op, Projectors, Update, copy_row


def on_image_server_created(e: Envelope[ev.ImageServerCreated]) -> list[Op]:
    return [
        copy_row(
            "rm_image_servers",
            e.event,
            "server_id",
            ("url", "display_name", "version", "max_width", "max_height"),
        )
    ]


def on_image_created(e: Envelope[ev.ImageCreated]) -> list[Op]:
    return [
        copy_row(
            "rm_images",
            e.event,
            "image_id",
            ("server_id", "url", "path", "width", "height", "status", "user_id"),
            created_at=e.occurred_at,
            created_position=e.position,
        )
    ]


def on_image_status_updated(e: Envelope[ev.ImageStatusUpdated]) -> list[Op]:
    return [Update("rm_images", {"image_id": e.event.image_id}, {"status": e.event.status})]


#: ElementUpdated change keys -> rm_elements columns (the same names)
ELEMENT_COLUMNS = ("type", "name", "polygon", "image_id", "confidence", "rotation_angle", "mirrored")


def on_element_updated(e: Envelope[ev.ElementUpdated]) -> list[Op]:
    """PartialUpdateElement: the changed fields of the element's row (its zone included)."""
    changes = e.event.changes
    values = {column: changes[column] for column in ELEMENT_COLUMNS if column in changes}
    return [Update("rm_elements", {"element_id": e.event.element_id}, values)] if values else []


PROJECTORS: Projectors = {
    ev.ImageServerCreated: on_image_server_created,
    ev.ImageCreated: on_image_created,
    ev.ImageStatusUpdated: on_image_status_updated,
    ev.ElementUpdated: on_element_updated,
}

# Importing the tables registers them in the read models' MetaData (projections/apply.py).
TABLES = tuple(table.name for table in IMAGE_TABLES)
