"""marshmallow schemas of the document operations (issue 5): Arkindex field names, as
arkindex-base-worker 0.6 sends and reads them. Requests refuse unknown fields like the rest
of the API (api/base_schemas.py)."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from api.base_schemas import (
    SLUG_RE,
    CursorField,
    CursorQuery,
    PageQuery,
    ReadQuery,
    RequestSchema,
    Text,
    storable,
)
from api.documents.image_schemas import ZoneSchema
from api.row_fields import Computed, Prefixed, Row, computed
from domain.documents import METADATA_TYPES, ORIENTATIONS

#: one bulk request appends one transaction; bigger imports send several batches
MAX_BULK = 5000


def Confidence(**kwargs: Any) -> fields.Float:
    # Two validators, so the error code says which bound (min_value / max_value).
    return fields.Float(
        validate=[validate.Range(min=0), validate.Range(max=1)],
        allow_nan=False,
        **kwargs,
    )


def WorkerRunId() -> fields.UUID:
    return fields.UUID(
        allow_none=True,
        metadata={
            "description": "The worker run signing the object (a user worker run of yours). "
            "Omitted or null: the object is created by you, unsigned.",
        },
    )


def _worker_run_filter(value: str) -> None:
    # The official client sends Python booleans as "False" (requests' str()); accept any case.
    if value.lower() == "false":
        return
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValidationError("Must be a worker run UUID or false.") from None


def WorkerRunFilter() -> fields.String:
    return fields.String(
        validate=_worker_run_filter,
        metadata={
            "description": "Only objects signed by this worker run; "
            "`false`: only objects created without one.",
        },
    )


def _metadata_value(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError("A metadata value is a string or a number.")
    storable(value)


# --- queries ---------------------------------------------------------------------------------


class ListTranscriptionsQuery(PageQuery):
    worker_run = WorkerRunFilter()
    element_type = Text(
        max_length=100, metadata={"description": "Only transcriptions of elements of this type."}
    )
    recursive = fields.Boolean(metadata={"description": "Include the transcriptions of all descendants."})


class ListCorpusMLClassesQuery(PageQuery):
    search = Text(max_length=1024, metadata={"description": "Only classes whose name contains this text."})


class ListElementMetaDataQuery(PageQuery):
    load_parents = fields.Boolean(metadata={"description": "Include the metadata of every ancestor."})
    worker_run = WorkerRunFilter()


class ListRunResultsQuery(CursorQuery):
    """Cursor pages: these lists grow with every bulk import while clients page through them."""

    #: the sort key of projections.document_queries.SIGNED_ORDER: (position, type, id)
    cursor = CursorField((int, str, str))
    type = fields.String(
        validate=validate.OneOf(["element", "transcription", "classification", "metadata"]),
        metadata={"description": "Only objects of this type."},
    )


# --- request bodies --------------------------------------------------------------------------


class CreateCorpusBody(RequestSchema):
    name = Text(required=True, min_length=1, max_length=250)
    description = Text()


class CreateElementTypeBody(RequestSchema):
    corpus = fields.UUID(required=True)
    slug = fields.String(
        required=True,
        validate=[
            validate.Length(min=1),
            validate.Length(max=100),
            validate.Regexp(SLUG_RE, error="Enter a valid slug."),
        ],
    )
    display_name = Text(required=True, min_length=1, max_length=250)
    folder = fields.Boolean()
    color = fields.String(validate=validate.Regexp(r"^[0-9a-fA-F]{6}$", error="Enter a 6-digit hex color."))


class CreateMLClassBody(RequestSchema):
    name = Text(required=True, min_length=1, max_length=1024)


class CreateElementBody(RequestSchema):
    type = Text(required=True, min_length=1, max_length=100, metadata={"description": "Element type slug."})
    name = Text(required=True, min_length=1, max_length=250)
    corpus = fields.UUID(required=True)
    parent = fields.UUID(allow_none=True)
    image = fields.UUID(allow_none=True)
    polygon = fields.List(
        fields.List(fields.Float(allow_nan=False), validate=validate.Length(equal=2)),
        allow_none=True,
        validate=validate.Length(min=3),
    )
    confidence = Confidence(allow_none=True)
    worker_run_id = WorkerRunId()
    # Sent by base-worker; this model has no images, zones or rotations yet.
    rotation_angle = fields.Integer(validate=validate.Range(min=0, max=359))
    mirrored = fields.Boolean()


#: characters in one transcription: far above a dense page, and bounded (the OpenAPI document
#: declares it), so a client learns the limit from a 400, not from the 1 MB body cap's 413
MAX_TRANSCRIPTION_TEXT = 100_000


class CreateTranscriptionBody(RequestSchema):
    text = Text(required=True, min_length=1, max_length=MAX_TRANSCRIPTION_TEXT)
    confidence = Confidence(allow_none=True)
    orientation = fields.String(validate=validate.OneOf(ORIENTATIONS))
    worker_run_id = WorkerRunId()


class BulkTranscriptionSchema(RequestSchema):
    element_id = fields.UUID(required=True)
    text = Text(required=True, min_length=1, max_length=MAX_TRANSCRIPTION_TEXT)
    confidence = Confidence(allow_none=True)
    orientation = fields.String(validate=validate.OneOf(ORIENTATIONS))


class CreateTranscriptionsBody(RequestSchema):
    worker_run_id = fields.UUID(
        required=True,
        metadata={
            "description": "The worker run signing every transcription (bulk endpoints need one).",
        },
    )
    transcriptions = fields.List(
        fields.Nested(BulkTranscriptionSchema),
        required=True,
        validate=[validate.Length(min=1), validate.Length(max=MAX_BULK)],
    )


class CreateClassificationBody(RequestSchema):
    element = fields.UUID(required=True)
    ml_class = fields.UUID(required=True)
    confidence = Confidence(required=True)
    high_confidence = fields.Boolean()
    worker_run_id = WorkerRunId()


class BulkClassificationSchema(RequestSchema):
    ml_class = fields.UUID(required=True)
    confidence = Confidence(required=True)
    high_confidence = fields.Boolean()


class CreateClassificationsBody(RequestSchema):
    parent = fields.UUID(required=True)
    worker_run_id = fields.UUID(required=True)
    classifications = fields.List(
        fields.Nested(BulkClassificationSchema),
        required=True,
        validate=[validate.Length(min=1), validate.Length(max=MAX_BULK)],
    )


class CreateMetaDataBody(RequestSchema):
    type = fields.String(required=True, validate=validate.OneOf(METADATA_TYPES))
    name = Text(required=True, min_length=1, max_length=250)
    value = fields.Raw(required=True, validate=_metadata_value)
    entity_id = fields.UUID(allow_none=True)
    worker_run_id = WorkerRunId()


class BulkMetaDataSchema(RequestSchema):
    type = fields.String(required=True, validate=validate.OneOf(METADATA_TYPES))
    name = Text(required=True, min_length=1, max_length=250)
    value = fields.Raw(required=True, validate=_metadata_value)


class CreateMetaDataBulkBody(RequestSchema):
    worker_run_id = WorkerRunId()
    metadata_list = fields.List(
        fields.Nested(BulkMetaDataSchema),
        required=True,
        validate=[validate.Length(min=1), validate.Length(max=MAX_BULK)],
    )


# --- responses -------------------------------------------------------------------------------


class WorkerRunLightSchema(Schema):
    id = fields.UUID()
    summary = fields.String(allow_none=True)


def signing_run(row: Row) -> dict[str, Any] | None:
    """`worker_run: {id, summary}` of a signed object, None when a user created it alone (the
    document queries join the run's summary as `run_summary`)."""
    if row["worker_run_id"] is None:
        return None
    return {"id": row["worker_run_id"], "summary": row.get("run_summary")}


def SigningRun() -> Computed:
    return computed(fields.Nested(WorkerRunLightSchema, allow_none=True), signing_run)


def _run_version(row: Row) -> Any:
    """The signing run's worker version (joined by the document queries; None without a run)."""
    return row.get("run_version_id")


class ElementTypeSchema(Schema):
    id = fields.UUID(attribute="type_id")
    corpus = fields.UUID(attribute="corpus_id")
    slug = fields.String()
    display_name = fields.String()
    folder = fields.Boolean()
    color = fields.String()


class CorpusSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    description = fields.String()
    public = fields.Boolean()
    types = fields.List(fields.Nested(ElementTypeSchema))
    rights = fields.List(fields.String())
    created = fields.DateTime()


class MLClassSchema(Schema):
    # a classification's `ml_class` and a `classes` item (Raw) too: mapped by the presenters
    id = fields.UUID()
    name = fields.String()


class CorpusLightSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    public = fields.Boolean()


class ClassificationSchema(Schema):
    id = fields.UUID()
    ml_class = fields.Nested(MLClassSchema)
    state = fields.String()
    confidence = fields.Float()
    high_confidence = fields.Boolean()
    worker_version = fields.UUID(allow_none=True)
    worker_run = fields.Nested(WorkerRunLightSchema, allow_none=True)


class ElementSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    type = fields.String(metadata={"description": "Element type slug."})
    corpus = fields.Nested(CorpusLightSchema)
    parent = fields.UUID(allow_none=True)
    # closed integer points on the image (issue 10), as in `zone.polygon`
    polygon = fields.List(fields.List(fields.Integer()), allow_none=True)
    zone = fields.Nested(ZoneSchema, allow_none=True, metadata={"description": "Null without an image."})
    thumbnail_url = fields.String(allow_none=True)
    rotation_angle = fields.Integer()
    mirrored = fields.Boolean()
    confidence = fields.Float(allow_none=True)
    created = fields.DateTime()
    creator = fields.String(allow_none=True, metadata={"description": "The user who created it."})
    worker_version = fields.UUID(allow_none=True)
    worker_run = fields.Nested(WorkerRunLightSchema, allow_none=True)
    classifications = fields.List(fields.Nested(ClassificationSchema))


class ElementLightSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    type = fields.String()


class TranscriptionSchema(Schema):
    id = fields.UUID(attribute="transcription_id")
    text = fields.String()
    confidence = fields.Float(allow_none=True)
    orientation = fields.String()
    element = Prefixed(ElementLightSchema, "element_")  # element_id, element_name, element_type
    worker_version_id = computed(fields.UUID(allow_none=True), _run_version)
    worker_run = SigningRun()
    created = fields.DateTime(attribute="created_at")


class CreatedTranscriptionSchema(Schema):
    id = fields.UUID()
    element_id = fields.UUID()
    text = fields.String()
    confidence = fields.Float(allow_none=True)
    orientation = fields.String()


class CreateTranscriptionsResponse(Schema):
    worker_run_id = fields.UUID()
    transcriptions = fields.List(fields.Nested(CreatedTranscriptionSchema))


class CreatedClassificationSchema(Schema):
    id = fields.UUID()
    element = fields.UUID()
    ml_class = fields.UUID()
    confidence = fields.Float()
    high_confidence = fields.Boolean()
    state = fields.String()
    worker_run_id = fields.UUID(allow_none=True)


class BulkCreatedClassificationSchema(Schema):
    id = fields.UUID()
    ml_class = fields.UUID()
    confidence = fields.Float()
    high_confidence = fields.Boolean()
    state = fields.String()


class CreateClassificationsResponse(Schema):
    parent = fields.UUID()
    worker_run_id = fields.UUID()
    classifications = fields.List(fields.Nested(BulkCreatedClassificationSchema))


class MetaDataSchema(Schema):
    id = fields.UUID(attribute="metadata_id")
    type = fields.String()
    name = fields.String()
    value = fields.Raw()
    entity_id = fields.UUID(allow_none=True)
    worker_run_id = fields.UUID(allow_none=True)


class ElementMetaDataSchema(MetaDataSchema):
    element_id = fields.UUID()
    worker_run = SigningRun()
    created = fields.DateTime(attribute="created_at")


class CreateMetaDataBulkResponse(Schema):
    worker_run_id = fields.UUID(allow_none=True)
    metadata_list = fields.List(fields.Nested(MetaDataSchema))


class SignedObjectSchema(Schema):
    type = fields.String(metadata={"description": "element, transcription, classification or metadata"})
    id = fields.UUID()
    element_id = fields.UUID(
        allow_none=True, metadata={"description": "The element it is on (for an element: its parent)."}
    )
    label = fields.String(
        allow_none=True,
        metadata={"description": "Element name, transcription text, ML class name or metadata name."},
    )
    worker_run = SigningRun()
    creator_id = fields.UUID(attribute="user_id")
    created = fields.DateTime(attribute="created_at")


class ProvenanceSchema(Schema):
    id = fields.UUID()
    type = fields.String(metadata={"description": "element, transcription, classification or metadata"})
    creator_id = fields.UUID()
    created = fields.String()
    worker_run = fields.Raw(
        allow_none=True,
        metadata={
            "description": "null: created by the user alone. For the run's owner, the full WorkerRun "
            "(worker version and worker, configuration, model version); else `{id, summary}`."
        },
    )
    retracted = fields.Boolean(metadata={
        "description": "The run that signed it was retracted (issue 14): the listings hide the object; "
        "this answer still says who created it."
    })


class SignedCountsSchema(Schema):
    element = fields.Integer()
    transcription = fields.Integer()
    classification = fields.Integer()
    metadata = fields.Integer()


class RetractionSchema(Schema):
    """RetractWorkerRun's answer (issue 14)."""

    id = fields.UUID(metadata={"description": "The retracted run."})
    retracted_by = fields.String(metadata={
        "description": "The id of the user who retracted it (its owner or an admin); `system` from the CLI."
    })
    retracted_at = fields.String(allow_none=True, metadata={
        "description": "When; null only in a stale answer (`X-Stale`), before the read models have it."
    })
    counts = fields.Nested(SignedCountsSchema, metadata={
        "description": "What the run signed, by type: all of it is now hidden from the listings."
    })


class StartActivityResponse(Schema):
    id = fields.UUID()


# --- instances -------------------------------------------------------------------------------

list_transcriptions_query = ListTranscriptionsQuery()
list_corpus_ml_classes_query = ListCorpusMLClassesQuery()
list_run_results_query = ListRunResultsQuery()
list_element_metadata_query = ListElementMetaDataQuery()
create_metadata_bulk_body = CreateMetaDataBulkBody()
element_metadata_schema = ElementMetaDataSchema()
create_metadata_bulk_response = CreateMetaDataBulkResponse()
read_query = ReadQuery()

create_corpus_body = CreateCorpusBody()
create_element_type_body = CreateElementTypeBody()
create_ml_class_body = CreateMLClassBody()
create_element_body = CreateElementBody()
create_transcription_body = CreateTranscriptionBody()
create_transcriptions_body = CreateTranscriptionsBody()
create_classification_body = CreateClassificationBody()
create_classifications_body = CreateClassificationsBody()
create_metadata_body = CreateMetaDataBody()

corpus_schema = CorpusSchema()
element_type_schema = ElementTypeSchema()
ml_class_schema = MLClassSchema()
element_schema = ElementSchema()
transcription_schema = TranscriptionSchema()
create_transcriptions_response = CreateTranscriptionsResponse()
created_classification_schema = CreatedClassificationSchema()
create_classifications_response = CreateClassificationsResponse()
metadata_schema = MetaDataSchema()
signed_object_schema = SignedObjectSchema()
start_activity_response = StartActivityResponse()
provenance_schema = ProvenanceSchema()
retraction_schema = RetractionSchema()
