"""marshmallow schemas of the element tree operations (issue 10 B): the listing filters the
Arkindex clients send (base-worker's list_elements / list_element_children /
list_element_parents, the CLI's ListElementChildren) and the link bodies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.base_schemas import PageQuery, RequestSchema, Text
from api.documents.schemas import MAX_BULK, ElementSchema, MetaDataSchema, WorkerRunFilter, _worker_run_filter


class ElementListQuery(PageQuery):
    type = Text(max_length=100, metadata={"description": "Only elements of this type (slug)."})
    name = Text(max_length=250, metadata={"description": "Only elements whose name contains this text."})
    folder = fields.Boolean(metadata={"description": "Only elements whose type is (not) a folder."})
    top_level = fields.Boolean(metadata={"description": "Only elements without (with) a parent."})
    worker_run = WorkerRunFilter()
    transcription_worker_run = fields.String(
        validate=_worker_run_filter,
        metadata={"description": "Only elements with a transcription by this worker run; "
                                 "`false`: with a transcription made without one."},
    )
    with_classes = fields.Boolean(metadata={"description": "Add `classes` (the classifications)."})
    with_corpus = fields.Boolean(metadata={"description": "Accepted: `corpus` is always included."})
    with_has_children = fields.Boolean(metadata={"description": "Add `has_children`."})
    with_metadata = fields.Boolean(metadata={"description": "Add `metadata` (the element's metadata list)."})
    with_zone = fields.Boolean(
        metadata={"description": "`false` leaves the zone out (`zone: null`); included by default."}
    )


class RelatedElementsQuery(ElementListQuery):
    recursive = fields.Boolean(
        metadata={"description": "Every descendant (children) or ancestor (parents), "
                                 "not only the direct ones."}
    )


class CreateElementChildrenBody(RequestSchema):
    children = fields.List(
        fields.UUID(), required=True, validate=[validate.Length(min=1), validate.Length(max=MAX_BULK)],
        metadata={"description": "Elements to link under the parent (same corpus)."},
    )


class ListedElementSchema(ElementSchema):
    classes = fields.List(fields.Raw(), metadata={"description": "With `with_classes`."})
    has_children = fields.Boolean(metadata={"description": "With `with_has_children`."})
    metadata = fields.List(fields.Nested(MetaDataSchema), metadata={"description": "With `with_metadata`."})


class ElementParentSchema(Schema):
    child = fields.UUID()
    parent = fields.UUID()


class ElementChildrenSchema(Schema):
    children = fields.List(fields.UUID())


element_list_query = ElementListQuery()
related_elements_query = RelatedElementsQuery()
create_element_children_body = CreateElementChildrenBody()
listed_element_schema = ListedElementSchema()
element_parent_schema = ElementParentSchema()
element_children_schema = ElementChildrenSchema()
