"""marshmallow schemas of the image operations (issue 10), with Arkindex's field names."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas import RequestSchema, Text
from domain.image import IMAGE_STATUSES, MAX_SIDE

#: a IIIF image URL; longer is not a URL someone typed
MAX_URL = 2000


def Side() -> fields.Integer:
    return fields.Integer(
        allow_none=True,
        strict=True,
        validate=[validate.Range(min=1), validate.Range(max=MAX_SIDE)],
        metadata={"description": "In pixels. Give both width and height to skip reading info.json."},
    )


class CreateIIIFURLBody(RequestSchema):
    url = Text(
        required=True, min_length=1, max_length=MAX_URL,
        metadata={"description": "The image's IIIF base URL (what precedes `/info.json`)."},
    )
    width = Side()
    height = Side()

    @validates_schema
    def _both_or_neither(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("width") is None) != (data.get("height") is None):
            raise ValidationError("Give both width and height, or neither (read from info.json).")


class UpdateImageBody(RequestSchema):
    status = fields.String(required=True, validate=validate.OneOf(IMAGE_STATUSES))


class ImageServerSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    display_name = fields.String()
    version = fields.Integer(metadata={"description": "IIIF Image API version: 2 or 3."})
    max_width = fields.Integer(allow_none=True)
    max_height = fields.Integer(allow_none=True)


class ImageSchema(Schema):
    id = fields.UUID()
    path = fields.String()
    url = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    status = fields.String()
    s3_url = fields.String(allow_none=True, metadata={"description": "Always null: pixels come from IIIF."})
    server = fields.Nested(ImageServerSchema)


class ZoneSchema(Schema):
    id = fields.UUID()
    url = fields.String(metadata={"description": "IIIF URL of the polygon's bounding box."})
    polygon = fields.List(fields.List(fields.Integer()))
    image = fields.Nested(ImageSchema)


create_iiif_url_body = CreateIIIFURLBody()
update_image_body = UpdateImageBody()
image_schema = ImageSchema()
