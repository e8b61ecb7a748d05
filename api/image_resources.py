"""Falcon resources of the image operations (issue 10): CreateIIIFURL, RetrieveImage,
PartialUpdateImage, and the zone operations CreateElements, CreateElementTranscriptions and
PartialUpdateElement: reads and command builders of their generic operations (api/routes.py),
and the bulk resources."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from api import image_presenters as ip
from api import image_schemas as ims
from api.operations import Call
from api.resources import _CommandResource
from commands import image_messages as im
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


def _run_id(body: dict[str, Any]) -> str | None:
    return None if body.get("worker_run_id") is None else str(body["worker_run_id"])


class ElementChildrenBulkResource(_CommandResource):
    """CreateElements: answered from the new ids (nothing to read back, no projection wait)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        body = req.context.body
        run_id = _run_id(body)
        items = tuple(
            im.ElementItem(
                name=e["name"], type=e["type"], polygon=e["polygon"], confidence=e.get("confidence"),
            )
            for e in body["elements"]
        )
        command = im.CreateElements(parent_id=str(id), items=items, worker_run_id=run_id)
        result = self.commands.run(req, resp, command, worker_run_id=run_id)
        resp.status = falcon.HTTP_201
        resp.media = ims.created_elements_schema.dump([{"id": i} for i in result.data["element_ids"]])


class ElementTranscriptionsBulkResource(_CommandResource):
    """CreateElementTranscriptions: `[{id, element_id, created}]`, in the request's order."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        body = req.context.body
        run_id = _run_id(body)
        items = tuple(
            im.ZoneTranscriptionItem(
                polygon=t["polygon"], text=t["text"], confidence=t.get("confidence"),
                orientation=t.get("orientation", "horizontal-lr"),
                element_confidence=t.get("element_confidence"),
            )
            for t in body["transcriptions"]
        )
        command = im.CreateElementTranscriptions(
            parent_id=str(id), element_type=body["element_type"], items=items, worker_run_id=run_id,
        )
        result = self.commands.run(req, resp, command, worker_run_id=run_id)
        resp.status = falcon.HTTP_201
        resp.media = ims.created_element_transcriptions_schema.dump(result.data["transcriptions"])
