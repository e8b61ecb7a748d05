"""What a route table is made of: a `Route` (path, resource, operations) and its `Operation`s,
with the helpers every feature's routes use for its lists and gets. The table itself is
api/routes.py, which joins the features' tuples.

Each route names its path (as published: full `/api/v1/...` OpenAPI path), its resource class
and its operations. An operation carries the Arkindex operationId, the query and body
schemas the edge middleware validates with (the same instances the document is built from,
so what is documented is what is enforced), the response schema, and for reads the
projections to wait for (read-your-writes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

from api import base_schemas as b
from api.operations import Serve
from projections.queries import CATALOG

#: what a read waits for unless it says otherwise
CATALOG_ONLY = (CATALOG,)


@dataclass(frozen=True)
class Operation:
    method: str
    operation_id: str
    summary: str
    query: Schema = b.empty_query
    body: Schema | None = None
    response: Schema | None = None
    #: the documented success status (CreateWorker also answers 200 for an existing worker)
    status: int = 200
    paginated: bool = False
    #: public operations need no token (the client fetches the schema before it has one)
    public: bool = False
    #: projections a read waits for, up to the caller's last write or X-Min-Event-Position
    reads: tuple[str, ...] = ()
    tag: str = "workers"
    description: str = ""
    #: documented error statuses besides 401 (for authenticated operations) and 400
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    #: extra documented success statuses
    also: tuple[int, ...] = ()
    #: other content types the success answer may take (e.g. `text/csv` with `format=csv`)
    alternate_content_types: tuple[str, ...] = ()
    #: the query or command builder a generic responder serves it with (api/operations.py);
    #: None: the route's resource answers it by hand
    serve: Serve | None = None

    @property
    def cursor_paginated(self) -> bool:
        """Cursor style (arkindex-api.md §3): the client picks it when `cursor` is declared."""
        return self.paginated and "cursor" in self.query.fields


@dataclass(frozen=True)
class Route:
    path: str
    resource: type
    operations: tuple[Operation, ...] = field(default_factory=tuple)
    #: the path with Falcon's field names, when the published names clash with another route's
    #: at the same level (Falcon wants one name per level: `/corpus/{id}/` and
    #: `/corpus/{corpus}/elements/` cannot both be routed as published)
    falcon_path: str | None = None

    @property
    def template(self) -> str:
        """The Falcon template: `{id}` path fields are UUIDs; anything else is a 404."""
        return re.sub(r"\{(\w+)\}", r"{\1:uuid}", self.falcon_path or self.path)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


def list_op(operation_id: str, summary: str, response: Schema, query: Schema = b.page_query,
            reads: tuple[str, ...] = CATALOG_ONLY, tag: str = "workers", **kwargs: Any) -> Operation:
    return Operation(
        "GET", operation_id, summary, query=query, response=response, paginated=True, reads=reads, tag=tag,
        **kwargs,
    )


def get_op(operation_id: str, summary: str, response: Schema, reads: tuple[str, ...] = CATALOG_ONLY,
           tag: str = "workers", **kwargs: Any) -> Operation:
    return Operation(
        "GET", operation_id, summary, query=b.read_query, response=response, reads=reads, tag=tag,
        errors=(404,), **kwargs,
    )

