"""marshmallow schemas of the image operations (issue 10), with Arkindex's field names."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.base_schemas import RequestSchema, Text
from domain.documents import ORIENTATIONS
from domain.image import IMAGE_STATUSES, MAX_POLYGON_POINTS, MAX_SIDE

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


# --- zones: children on their parent's image -------------------------------------------------

#: one bulk request appends one transaction (as api/documents/schemas.py MAX_BULK)
MAX_BULK = 5000


def Polygon(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.List(fields.Float(allow_nan=False), validate=validate.Length(equal=2)),
        validate=[validate.Length(min=3), validate.Length(max=MAX_POLYGON_POINTS)],
        metadata={"description": "[[x, y], …] in the image's pixels: at least 3 distinct points, integers, "
                                 "inside the image; closed for you if it is not."},
        **kwargs,
    )


def Confidence(**kwargs: Any) -> fields.Float:
    return fields.Float(validate=[validate.Range(min=0), validate.Range(max=1)], allow_nan=False, **kwargs)


class BulkElementSchema(RequestSchema):
    name = Text(required=True, min_length=1, max_length=250)
    type = Text(required=True, min_length=1, max_length=100, metadata={"description": "Element type slug."})
    polygon = Polygon(required=True)
    confidence = Confidence(allow_none=True)


class CreateElementsBody(RequestSchema):
    worker_run_id = fields.UUID(
        required=True, metadata={"description": "The worker run signing every element."},
    )
    elements = fields.List(
        fields.Nested(BulkElementSchema), required=True,
        validate=[validate.Length(min=1), validate.Length(max=MAX_BULK)],
    )


class ZoneTranscriptionSchema(RequestSchema):
    polygon = Polygon(required=True)
    text = Text(required=True, min_length=1)
    confidence = Confidence(allow_none=True)
    orientation = fields.String(validate=validate.OneOf(ORIENTATIONS))
    element_confidence = Confidence(allow_none=True)


class CreateElementTranscriptionsBody(RequestSchema):
    element_type = Text(required=True, min_length=1, max_length=100,
                        metadata={"description": "Type slug of the child elements."})
    worker_run_id = fields.UUID(
        required=True, metadata={"description": "The worker run signing every element and transcription."},
    )
    transcriptions = fields.List(
        fields.Nested(ZoneTranscriptionSchema), required=True,
        validate=[validate.Length(min=1), validate.Length(max=MAX_BULK)],
    )
    return_elements = fields.Boolean(metadata={"description": "Accepted; the answer always lists them."})


class UpdateElementBody(RequestSchema):
    type = Text(min_length=1, max_length=100)
    name = Text(min_length=1, max_length=250)
    polygon = Polygon()
    image = fields.UUID()
    confidence = Confidence(allow_none=True)
    rotation_angle = fields.Integer(strict=True, validate=[validate.Range(min=0), validate.Range(max=359)])
    mirrored = fields.Boolean()


class CreatedElementSchema(Schema):
    id = fields.UUID()


class CreatedElementTranscriptionSchema(Schema):
    id = fields.UUID(metadata={"description": "The transcription."})
    element_id = fields.UUID()
    created = fields.Boolean(metadata={"description": "False when an existing child was reused."})


create_iiif_url_body = CreateIIIFURLBody()
update_image_body = UpdateImageBody()
image_schema = ImageSchema()
create_elements_body = CreateElementsBody()
create_element_transcriptions_body = CreateElementTranscriptionsBody()
update_element_body = UpdateElementBody()
created_elements_schema = CreatedElementSchema(many=True)
created_element_transcriptions_schema = CreatedElementTranscriptionSchema(many=True)
