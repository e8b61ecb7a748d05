"""Zones of elements (issue 10): which image an element lies on and its checked polygon, and the
lookup of an existing child by (parent, type, polygon) that CreateElementTranscriptions reuses.

The lookup is an alias claimed with the child's events (commands/aliases.py), so it is as
consistent as the event store: no read-model lag, and two racing bulk requests for the same
polygon end with one child (the loser retries and finds it).
"""

from __future__ import annotations

import json

from commands.aliases import ELEMENT_ZONE
from commands.unit_of_work import UnitOfWork
from domain.documents import Element
from domain.errors import InvalidValue
from domain.image import Image, full_image_polygon, image_stream, normalize_polygon, url_key

Zone = tuple[str | None, list[list[int]] | None]


def resolve_zone(
    uow: UnitOfWork, image_id: str | None, polygon: object, parent: Element | None,
    field: str = "polygon",
) -> Zone:
    """(image id, closed integer polygon) of a new element, or (None, None) without a zone.

    Without `image`, a polygon lies on the parent's image (as children created in bulk do);
    with an image and no polygon, the element covers the whole image (a page).
    """
    if image_id is None and polygon is not None and parent is not None:
        image_id = parent.image_id
    if image_id is None:
        if polygon is not None:
            raise InvalidValue(
                "A polygon needs an image: give `image`, or a parent that has one.", field=field,
            )
        return None, None
    image = uow.get(Image, image_stream(image_id), "No such image.", "image")
    if polygon is None:
        return image_id, full_image_polygon(image.width, image.height)
    return image_id, normalize_polygon(polygon, image.width, image.height, field=field)


def zone_alias(parent_id: str, type: str, polygon: list[list[int]]) -> str:
    return ELEMENT_ZONE.format(url_key(json.dumps([parent_id, type, polygon], separators=(",", ":"))))


def find_zone_child(uow: UnitOfWork, parent_id: str, type: str, polygon: list[list[int]]) -> str | None:
    """The id of the child of `parent_id` with this type and polygon, if one was recorded."""
    stream_id = uow.resolve(zone_alias(parent_id, type, polygon))
    return None if stream_id is None else stream_id.removeprefix("element-")


def record_zone_child(
    uow: UnitOfWork, parent_id: str, type: str, polygon: list[list[int]], child: Element, *,
    reused: bool = False,
) -> None:
    """Remember the child for later reuse.

    `reused=True` (CreateElementTranscriptions, which found no such child): claimed
    unconditionally, so a racing request that created the same child first makes this one
    conflict, retry and reuse it. Otherwise (CreateElement, CreateElements, which may make
    duplicates on purpose) only when no other child holds the spot: the first one is reused.
    """
    alias = zone_alias(parent_id, type, polygon)
    if reused or uow.resolve(alias) is None:
        uow.claim(alias, child.stream_id)
