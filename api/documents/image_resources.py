"""Falcon resources of the image operations (issue 10): CreateIIIFURL, RetrieveImage,
PartialUpdateImage, and the zone operations CreateElements, CreateElementTranscriptions and
PartialUpdateElement: reads and command builders of their generic operations (api/documents/routes.py),
and the bulk resources."""

from __future__ import annotations

from typing import Any

from api.documents import image_presenters as ip
from api.operations import Call
from commands import image_messages as im
from commands.bus import CommandResult
from projections import image_queries as iq


def image(conn: Any, image_id: str) -> dict[str, Any] | None:
    row = iq.get_image(conn, image_id)
    return None if row is None else ip.image(row)


def create_iiif_url(call: Call) -> im.CreateIIIFURL:
    body = call.body
    return im.CreateIIIFURL(url=body["url"], width=body.get("width"), height=body.get("height"))


def update_image_status(call: Call) -> im.UpdateImageStatus:
    return im.UpdateImageStatus(image_id=call.id, status=call.body["status"])


def update_element(call: Call) -> im.UpdateElement:
    """PartialUpdateElement: the published `image` field is the command's `image_id`."""
    changes = dict(call.body)
    if "image" in changes:
        changes["image_id"] = str(changes.pop("image"))
    return im.UpdateElement(element_id=call.id, changes=changes)


# --- zones: children on their parent's image -----------------------------------------------------


def create_elements(call: Call) -> im.CreateElements:
    """CreateElements: answered from the new ids (nothing to read back, no projection wait)."""
    items = tuple(
        im.ElementItem(name=e["name"], type=e["type"], polygon=e["polygon"], confidence=e.get("confidence"))
        for e in call.body["elements"]
    )
    return im.CreateElements(parent_id=call.id, items=items, worker_run_id=call.id_of("worker_run_id"))


def created_elements(command: im.CreateElements, result: CommandResult) -> list[dict[str, Any]]:
    return [{"id": i} for i in result.data["element_ids"]]


def create_element_transcriptions(call: Call) -> im.CreateElementTranscriptions:
    """CreateElementTranscriptions: `[{id, element_id, created}]`, in the request's order."""
    items = tuple(
        im.ZoneTranscriptionItem(
            polygon=t["polygon"], text=t["text"], confidence=t.get("confidence"),
            orientation=t.get("orientation", "horizontal-lr"),
            element_confidence=t.get("element_confidence"),
        )
        for t in call.body["transcriptions"]
    )
    return im.CreateElementTranscriptions(
        parent_id=call.id, element_type=call.body["element_type"], items=items,
        worker_run_id=call.id_of("worker_run_id"),
    )


def created_element_transcriptions(command: im.CreateElementTranscriptions, result: CommandResult) -> Any:
    return result.data["transcriptions"]
