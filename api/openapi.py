"""The OpenAPI 3.0 document, built from the route table with apispec + its marshmallow plugin.

Rules from arkindex-api.md §2, which the official client enforces when it loads the document:
full `/api/v1/...` paths, a unique operationId per operation, every path and query parameter
declared with name/in/schema (page or cursor, page_size and with_count included: the client
picks cursor style when `cursor` is declared), `x-paginated` on every
operation, and request bodies with `x-name: body` so callers pass `body=`.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from api.base_schemas import MAX_INT64, ErrorSchema
from api.gateway import IDEMPOTENCY_HEADER
from api.reads import MIN_POSITION_HEADER
from api.route_table import Operation, Route
from api.row_fields import Computed

OPENAPI_VERSION = "3.0.3"
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERROR_DESCRIPTIONS = {
    400: "Invalid input (`validation_error`).",
    401: "Missing, unknown or revoked token (`client_error`, code `not_authenticated`).",
    403: "Not allowed (`client_error`, code `permission_denied`).",
    404: "Not found, or not visible to you, or a page past the last (`client_error`, code `not_found`).",
    409: "Conflict with an existing object (`client_error`, with `existing_id`), or too many concurrent "
         "changes (code `conflict`, with `Retry-After`).",
    411: "A chunked body on a server that cannot read one (`client_error`, code `length_required`).",
    413: "The body is over 1 MB (`client_error`, code `too_large`).",
    415: "The body is not sent as `Content-Type: application/json` "
         "(`client_error`, code `unsupported_media_type`).",
    422: "Idempotency-Key reused with a different request (`client_error`).",
    429: "Too many of your live streams are open "
         "(`client_error`, code `too_many_streams`, with `Retry-After`).",
    503: "The database is unavailable (`server_error`, code `database_unavailable`, or `outcome_unknown` "
         "when it went away while saving), not ready, or no capacity left for this request "
         "(with `Retry-After`).",
}
#: operations that answer without the database (no 503 for an outage)
_NO_DATABASE = {"RetrieveOpenAPISchema", "RetrieveLiveness", "RetrieveAPIDocs"}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                                "schema": {"type": "integer", "minimum": 0}}}
TAGS = [
    {"name": "workers", "description": "Workers, worker types, versions and named configurations."},
    {"name": "models", "description": "Models and model versions a worker run may use."},
    {"name": "worker runs", "description": "User worker runs: sign what you publish outside a process."},
    {"name": "users", "description": "The authenticated user."},
    {"name": "system", "description": "This document, its interactive docs and health probes (no token)."},
]


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        for name in route.path_params
    ]


def _header_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.method in ("POST", "PATCH", "PUT"):
        return [{
            "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x21-\x7e]+$"},
            "description": "Retrying with the same key returns the first answer and creates nothing new.",
        }]
    if op.reads:
        return [{
            "name": MIN_POSITION_HEADER, "in": "header", "required": False,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_INT64},
            "description": "Answer only once the read models include this event position "
                           "(a position above the head is answered at once, marked `X-Stale`).",
        }]
    return []


def _success_schema(op: Operation) -> dict[str, Any] | Any:
    if op.response is None:
        return {"type": "object"}
    if not op.paginated:
        return op.response
    if op.cursor_paginated:
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "nullable": True,
                          "description": "The total number of results, with `with_count=true`; else null."},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": {"type": "array", "items": op.response},
            },
        }
    return {
        "type": "object",
        "required": ["count", "next", "previous", "number", "results"],
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": "string", "nullable": True, "format": "uri"},
            "previous": {"type": "string", "nullable": True, "format": "uri"},
            "number": {"type": "integer"},
            "results": {"type": "array", "items": op.response},
        },
    }


def _responses(op: Operation) -> dict[str, Any]:
    if op.content_type == "application/json":
        content: dict[str, Any] = {"application/json": {"schema": _success_schema(op)}}
    else:  # HTML docs, the server-sent event stream, Prometheus text
        content = {op.content_type: {"schema": {"type": "string"}}}
    for other in op.alternate_content_types:
        content[other] = {"schema": {"type": "string"}}
    success: dict[str, Any] = {"description": "Success.", "content": content}
    if op.method != "GET":
        success["headers"] = {"X-Event-Position": {
            "description": "Position of the command's last event; "
                           "pass it as X-Min-Event-Position to read it.",
            "schema": {"type": "integer"},
        }}
    responses: dict[str, Any] = {str(code): success for code in (op.status, *op.also)}
    # Any declared input (query, body, or a validated header such as Idempotency-Key) can be
    # invalid; a page-number listing answers 404 past its last page, as DRF does.
    has_input = bool(op.query.fields) or op.body is not None or bool(_header_parameters(op))
    errors = {400, *op.errors} if has_input else set(op.errors)
    if op.paginated and not op.cursor_paginated:
        errors.add(404)
    if not op.public:
        errors.add(401)
    if op.body is not None:
        errors |= {411, 413, 415}
    if op.method in ("POST", "PATCH", "PUT"):
        errors |= {409, 422}  # concurrent changes; an Idempotency-Key reused
    if op.operation_id not in _NO_DATABASE:
        errors.add(503)
    for code in sorted(errors):
        responses[str(code)] = {"description": _ERROR_DESCRIPTIONS[code]}
        # /readyz's 503 is its own status document; every other error is the Error shape.
        if not (code == 503 and op.operation_id == "RetrieveReadiness"):
            responses[str(code)]["content"] = {"application/json": {"schema": _ERROR_REF}}
        if code == 413:
            # Far above the limit, the HTTP server itself refuses before the API reads a byte.
            responses[str(code)]["content"]["text/plain"] = {"schema": {"type": "string"}}
        if code in (409, 429, 503):
            responses[str(code)]["headers"] = _RETRY_AFTER
    return responses


def _operation(route: Route, op: Operation) -> dict[str, Any]:
    parameters = _path_parameters(route) + _header_parameters(op)
    if op.query.fields:
        # The marshmallow plugin expands a query schema into one parameter per field.
        parameters.append({"in": "query", "schema": op.query})
    operation: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": _responses(op),
        "x-paginated": op.paginated,
    }
    if op.description:
        operation["description"] = op.description
    if op.public:
        operation["security"] = []
    if op.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
            # Without it the client would name the argument after the component.
            "x-name": "body",
        }
    return operation


def _computed2properties(converter: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """A computed field (api/row_fields.py) is documented as the field it wraps."""
    return converter.field2property(field.inner) if isinstance(field, Computed) else {}


def build_spec(routes: tuple[Route, ...], *, version: str) -> dict[str, Any]:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="worker-runs",
        version=version,
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={"description": "Arkindex-compatible workers, worker versions and user worker runs, "
                             "event-sourced. Authenticate with `Authorization: Token <token>`."},
        tags=TAGS,
    )
    assert plugin.converter is not None  # set up by APISpec
    plugin.converter.add_attribute_function(_computed2properties)
    spec.components.security_scheme("TokenAuth", {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "`Token <your API token>`",
    })
    spec.components.schema("Error", schema=ErrorSchema)
    for route in routes:
        spec.path(path=route.path, operations={
            op.method.lower(): _operation(route, op) for op in route.operations
        })
    document = spec.to_dict()
    document["security"] = [{"TokenAuth": []}]
    return document
