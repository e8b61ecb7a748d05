"""Answers for requests whose command committed but whose response could not be built.

A client that gets an error retries; an unchanged Arkindex client sends no Idempotency-Key, so
its retry creates the object a second time. So once the command gateway has seen the append
commit (`resp.context.committed`), a failure while building the answer (typically: the
database went away before the object could be read back) is never answered as an error:

- `_written` (api/base_resources.py) answers the created object as the command recorded it (its
  id, and the fields the client sent, through the response schema);
- any other path answers the command's own result data;

both with the success status, `X-Stale: true` and `X-Stale-Reason: unreadable`, so the client
knows to read the object again later.
"""

from __future__ import annotations

from typing import Any

import falcon
from marshmallow import Schema

from commands.bus import CommandResult

STALE_REASON = "unreadable"


def committed(resp: falcon.Response) -> CommandResult | None:
    result = getattr(resp.context, "committed", None)
    return result if isinstance(result, CommandResult) else None


def mark(resp: falcon.Response) -> None:
    resp.set_header("X-Stale", "true")
    resp.set_header("X-Stale-Reason", STALE_REASON)


def recorded_object(resp: falcon.Response, object_id: str, schema: Schema) -> dict[str, Any]:
    """The created object as the command recorded it: its id and the fields sent."""
    body = getattr(resp.context, "request_body", None)
    fields = dict(body) if isinstance(body, dict) else {}
    try:
        dumped = _sent(schema, {**fields, "id": object_id})
    except Exception:  # a schema that needs more than was sent: the id is what matters
        dumped = {}
    return {**dumped, "id": object_id}


def _sent(schema: Schema, values: dict[str, Any]) -> dict[str, Any]:
    """The values sent, each serialized by the response field of that name. Field by field:
    response schemas read read-model rows (their columns and computed values, api/row_fields.py),
    which a request body is not."""
    return {
        field.data_key or name: field._serialize(values[name], name, values)
        for name, field in schema.dump_fields.items()
        if name in values
    }


def answer_committed(req: falcon.Request, resp: falcon.Response, result: CommandResult) -> None:
    """The success answer of a committed command whose response failed to build."""
    resp.status = falcon.HTTP_201 if req.method == "POST" else falcon.HTTP_200
    resp.content_type = falcon.MEDIA_JSON
    resp.media = result.data
    if result.position is not None:
        resp.set_header("X-Event-Position", str(result.position))
    mark(resp)
