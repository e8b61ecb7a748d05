"""The HTTP edge's shared schema pieces: the base of every request schema, the fields and
queries every feature uses (bounded text, JSON objects, page and cursor queries) and the error
body. Each feature's own schemas live in its package (api/catalog/, api/documents/, ...).

Request schemas validate at the edge and refuse unknown fields (marshmallow's default
`unknown=RAISE`), so a typo is a 400 rather than a silent no-op. Response schemas shape
every object the API returns, so the OpenAPI document (built from the same classes) and the
bytes on the wire cannot drift apart. Field names and shapes follow arkindex-api.md §5.

String lengths match the read-model columns (projections/tables.py): PostgreSQL enforces
them, so a longer value accepted here would fail later, in a projection.
"""

from __future__ import annotations

import math
import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from api import pagination

# --- reusable fields -----------------------------------------------------------------------

# The largest integer the databases store (BIGINT / SQLite INTEGER): a larger event position
# would raise OverflowError in the driver (a 500), so it is a 400 here. (A page number past
# the end is a 404 before any query, api/pagination.py.)
MAX_INT64 = 2**63 - 1


def storable(value: Any) -> None:
    """Refuse what JSON can carry but the databases cannot store.

    NUL characters (PostgreSQL text and JSONB reject them), lone surrogates (not encodable
    as UTF-8) and non-finite numbers (not JSON), anywhere inside the value. Iterative, so a
    deeply nested document cannot exhaust the stack.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValidationError("Null characters are not allowed.")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValidationError("Invalid Unicode text.") from None
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValidationError("Numbers must be finite.")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def Text(*, max_length: int | None = None, min_length: int = 0, **kwargs: Any) -> fields.String:
    """A string the databases can store, optionally bounded."""
    validators: list[Any] = [storable]
    # Separate bounds, so the error says which one (min_length / max_length codes).
    if min_length:
        validators.append(validate.Length(min=min_length))
    if max_length is not None:
        validators.append(validate.Length(max=max_length))
    return fields.String(validate=validators, **kwargs)


def JsonObject(**kwargs: Any) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), validate=storable, **kwargs)


SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")


class RequestSchema(Schema):
    """Base of every request schema (documents `additionalProperties: false`)."""


# --- queries ---------------------------------------------------------------------------------

# Page sizes live with the paginators (api/pagination.py); re-exported for the schemas' users.
MAX_PAGE_SIZE = pagination.MAX_PAGE_SIZE
DEFAULT_PAGE_SIZE = pagination.DEFAULT_PAGE_SIZE


class ReadQuery(RequestSchema):
    """Every read accepts a minimum event position (read-your-writes, design.md)."""

    min_position = fields.Integer(
        validate=validate.Range(min=0, max=MAX_INT64),
        metadata={"description": "Answer only once the read models include this event position "
                                 "(the X-Event-Position of an earlier write); same as X-Min-Event-Position."},
    )


def PageSize() -> fields.Integer:
    return fields.Integer(
        # Two validators, so the error code says which bound (min_value / max_value).
        validate=[validate.Range(min=1), validate.Range(max=MAX_PAGE_SIZE)],
        metadata={"description": f"Number of results to return per page (default {DEFAULT_PAGE_SIZE})."},
    )


class PageQuery(ReadQuery):
    """Page-number style (arkindex-api.md §3): the client sees `page` and pages by number."""

    page = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "A page number within the paginated result set."},
    )
    page_size = PageSize()


class CursorField(fields.String):
    """An opaque cursor from a `next`/`previous` link, loaded as a `pagination.Cursor`.

    A String to OpenAPI (apispec maps the subclass). Decoding here, at the edge, makes a bad
    or tampered cursor a 400 on `["cursor"]` like any invalid query value, never a 500.
    """

    def __init__(self, key_types: tuple[type, ...], **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata", {"description": "The pagination cursor value (from `next` or `previous`)."},
        )
        super().__init__(**kwargs)
        #: the list's sort key types, checked so a cursor from another list is refused too
        self.key_types = key_types

    # A string on the wire, a decoded cursor once loaded.
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any,
    ) -> pagination.Cursor:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return pagination.decode_cursor(text, self.key_types)
        except pagination.InvalidCursor:
            raise ValidationError("Invalid cursor.") from None


class CursorQuery(ReadQuery):
    """Cursor style (arkindex-api.md §3): declaring `cursor` (and no `page`) makes the official
    client follow `next` links, and send `with_count=true` on the first page.

    Subclasses declare `cursor = CursorField(<sort key types>)` for their list's order."""

    page_size = PageSize()
    with_count = fields.Boolean(
        metadata={"description": "Fill `count` with the total number of results (first page only)."},
    )


class SchemaQuery(RequestSchema):
    format = fields.String(
        validate=validate.OneOf(["json", "openapi-json", "openapi"]),
        metadata={"description": "The document is always served as JSON."},
    )


class EmptyQuery(RequestSchema):
    pass


class ErrorEntrySchema(Schema):
    attr = fields.List(fields.Raw(), allow_none=True)
    code = fields.String()
    detail = fields.String()


class ErrorSchema(Schema):
    type = fields.String(validate=validate.OneOf(["validation_error", "client_error", "server_error"]))
    errors = fields.List(fields.Nested(ErrorEntrySchema))
    existing_id = fields.UUID(metadata={"description": "Duplicates only: the object that already exists."})
    non_field_errors = fields.List(fields.String(), metadata={
        "description": "Arkindex's spelling of the message, where its clients look for it "
                       "(a refused sign-in, a run that already exists).",
    })
    features = fields.Dict(metadata={
        "description": "401 only: the sign-in features this server offers (Arkindex's clients read it).",
    })


# --- module-level instances (one per use; marshmallow schemas are reusable and thread-safe) ---

read_query = ReadQuery()
page_query = PageQuery()
schema_query = SchemaQuery()
empty_query = EmptyQuery()
error_schema = ErrorSchema()
