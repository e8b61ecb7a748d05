"""marshmallow schemas of the transcription entity operations (issue 10 B), as
arkindex-base-worker 0.6 sends and reads them (worker/entity.py)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.base_schemas import PageQuery, RequestSchema, Text
from api.documents.schemas import MAX_BULK, Confidence, SigningRun, WorkerRunFilter, WorkerRunId
from api.row_fields import Prefixed

COLOR = validate.Regexp(r"^[0-9a-fA-F]{6}$", error="Enter a 6-digit hex color.")


class CreateEntityTypeBody(RequestSchema):
    name = Text(required=True, min_length=1, max_length=250)
    corpus = fields.UUID(required=True)
    color = fields.String(validate=COLOR)


class EntitySchema(RequestSchema):
    type_id = fields.UUID(required=True, metadata={"description": "An entity type of the corpus."})
    offset = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**31 - 1))
    length = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    confidence = Confidence(allow_none=True)


class CreateTranscriptionEntityBody(EntitySchema):
    worker_run_id = WorkerRunId()


class CreateTranscriptionEntitiesBody(RequestSchema):
    worker_run_id = WorkerRunId()
    transcription_entities = fields.List(
        fields.Nested(EntitySchema), required=True,
        validate=[validate.Length(min=1), validate.Length(max=MAX_BULK)],
    )


class ListTranscriptionEntitiesQuery(PageQuery):
    worker_run = WorkerRunFilter()


class EntityTypeSchema(Schema):
    id = fields.UUID(attribute="type_id")
    name = fields.String()
    color = fields.String()
    corpus = fields.UUID(attribute="corpus_id")


class EntityTypeLightSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    color = fields.String()


class TranscriptionEntitySchema(Schema):
    id = fields.UUID(attribute="entity_id")
    type = Prefixed(EntityTypeLightSchema, "type_")  # type_id, type_name, type_color
    type_id = fields.UUID()
    offset = fields.Integer()
    length = fields.Integer()
    confidence = fields.Float(allow_none=True)
    worker_run_id = fields.UUID(allow_none=True)
    worker_run = SigningRun()


class CreatedEntitiesSchema(Schema):
    transcription_entities = fields.List(
        fields.UUID(), metadata={"description": "The ids of the new entities, in the request's order."}
    )


create_entity_type_body = CreateEntityTypeBody()
create_transcription_entity_body = CreateTranscriptionEntityBody()
create_transcription_entities_body = CreateTranscriptionEntitiesBody()
list_transcription_entities_query = ListTranscriptionEntitiesQuery()
entity_type_schema = EntityTypeSchema()
transcription_entity_schema = TranscriptionEntitySchema()
created_entities_schema = CreatedEntitiesSchema()
