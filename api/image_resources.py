"""Falcon resources of the image operations (issue 10): CreateIIIFURL, RetrieveImage,
PartialUpdateImage. Thin, like api/document_resources.py: one command or one query each."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from api import image_presenters as ip
from api import image_schemas as ims
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
