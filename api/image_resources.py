"""Falcon resources of the image operations (issue 10): CreateIIIFURL, RetrieveImage,
PartialUpdateImage, and the zone operations CreateElements, CreateElementTranscriptions and
PartialUpdateElement. Thin, like api/document_resources.py: one command or one query each."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from api import document_resources as dr
from api import document_schemas as ds
from api import image_presenters as ip
from api import image_schemas as ims
from api.gateway import CommandGateway
from api.reads import ReadModels
from api.resources import _CommandResource
from commands import image_messages as im
from projections import image_queries as iq

DOCS = (iq.DOCUMENTS,)


def _image(conn: Any, image_id: str) -> dict[str, Any] | None:
    row = iq.get_image(conn, image_id)
    return None if row is None else ip.image(row)


class IIIFURLResource(_CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        result = self.commands.run(
            req, resp, im.CreateIIIFURL(url=body["url"], width=body.get("width"), height=body.get("height")),
        )
        image_id = result.data["image_id"]
        self._written(
            resp, result, 201, image_id, lambda conn: _image(conn, image_id), lambda x: x, ims.image_schema,
            names=DOCS,
        )


class ImageResource(_CommandResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        self._one(resp, lambda conn: _image(conn, str(id)), lambda x: x, ims.image_schema, "No such image.")

    def on_patch(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        command = im.UpdateImageStatus(image_id=str(id), status=req.context.body["status"])
        result = self.commands.run(req, resp, command)
        self._written(
            resp, result, 200, str(id), lambda conn: _image(conn, str(id)), lambda x: x, ims.image_schema,
            names=DOCS,
        )


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
        result = self.commands.run(req, resp, command)
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
        result = self.commands.run(req, resp, command)
        resp.status = falcon.HTTP_201
        resp.media = ims.created_element_transcriptions_schema.dump(result.data["transcriptions"])


class ElementResource(dr.ElementResource):
    """RetrieveElement (api/document_resources.py) and PartialUpdateElement."""

    def __init__(self, commands: CommandGateway, reads: ReadModels) -> None:
        super().__init__(reads)
        self.commands = commands

    def on_patch(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        body = dict(req.context.body)
        if "image" in body:
            body["image_id"] = str(body.pop("image"))
        result = self.commands.run(req, resp, im.UpdateElement(element_id=str(id), changes=body))
        self._written(
            resp, result, 200, str(id), lambda conn: dr._element(conn, req, str(id)), lambda x: x,
            ds.element_schema, names=DOCS,
        )
