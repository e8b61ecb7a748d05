"""Middleware: request ids, body size limit, and the edge (auth, validation, read barrier)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Mapping
from typing import Any

import falcon
import structlog

from api.auth import Authenticator
from api.errors import ApiError, error_entry, not_authenticated
from api.reads import ReadModels
from api.route_table import Operation
from api.ui.session import SessionCodec

REQUEST_ID_HEADER = "X-Request-ID"
# A client-supplied request id is kept if it is short and plain (it ends up in the events'
# correlation_id column, 64 characters); otherwise a new one is made.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    """Give every request an id: in `req.context.request_id`, the logs and the response."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = req.get_header(REQUEST_ID_HEADER)
        request_id = given if given and _REQUEST_ID_RE.match(given) else str(uuid.uuid4())
        req.context.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool,
    ) -> None:
        request_id = getattr(req.context, "request_id", None)
        if request_id:
            resp.set_header(REQUEST_ID_HEADER, request_id)
        structlog.contextvars.clear_contextvars()


class BodyLimitMiddleware:
    """Bodies up to `max_bytes`; a body of unknown length (chunked) is read to its end first.

    Falcon reads a body by its Content-Length, so a chunked body (none) was taken as empty: a
    chunked PATCH answered 200 and changed nothing. When the server says `wsgi.input` ends at
    the body's end (`wsgi.input_terminated`: gunicorn, waitress), it is read here, at most
    `max_bytes` + 1 bytes, and handed on with its length; on a server that cannot (wsgiref),
    the request is refused with 411 rather than misread.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def _too_large(self) -> ApiError:
        return ApiError(status=413, type="client_error", errors=[
            error_entry("too_large", f"Request bodies are limited to {self.max_bytes} bytes.")
        ])

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.content_length is not None:
            if req.content_length > self.max_bytes:
                raise self._too_large()
            return
        transfer_encoding = (req.get_header("Transfer-Encoding") or "").lower()
        if not transfer_encoding:
            return  # no Content-Length and no Transfer-Encoding: there is no body (RFC 9112 §6.3)
        if not req.env.get("wsgi.input_terminated"):
            raise ApiError(status=411, type="client_error", errors=[
                error_entry("length_required", "Send the body with a Content-Length header.")
            ])
        data = _read_to_end(req.stream, self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise self._too_large()
        req.env["CONTENT_LENGTH"] = str(len(data))
        req.env["wsgi.input"] = req.stream = io.BytesIO(data)


def _read_to_end(stream: Any, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class EdgeMiddleware:
    """What every operation needs before its responder runs, driven by the route table:

    1. authentication (unless the operation is public) -> `req.context.identity`;
    2. the query string, validated by the operation's schema -> `req.context.query`;
    3. the JSON body, validated by the operation's schema -> `req.context.body`;
    4. for reads, the bounded wait for the projections (read-your-writes).
    """

    def __init__(
        self,
        operations: Mapping[int, Mapping[str, Operation]],
        authenticator: Authenticator,
        reads: ReadModels,
        sessions: SessionCodec | None = None,
    ) -> None:
        # id(resource instance) -> HTTP method -> operation
        self.operations = operations
        self.authenticator = authenticator
        self.reads = reads
        #: the web UI's session cookies (api/ui/session.py): a signed-in browser may call the
        #: API, e.g. the SSE stream, without a token; unsafe methods then need the CSRF token
        self.sessions = sessions

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any],
    ) -> None:
        if resource is None:
            return
        op = self.operations.get(id(resource), {}).get(req.method)
        if op is None:
            return  # Falcon answers 405 (or OPTIONS) itself
        req.context.identity = None
        if not op.public:
            identity = self.authenticator.authenticate_request(req, self.sessions)
            if identity is None:
                raise not_authenticated(
                    "Authentication credentials were not provided or are invalid: "
                    "send `Authorization: Token <your API token>`."
                )
            req.context.identity = identity
            structlog.contextvars.bind_contextvars(user_id=identity.actor.user_id)
        req.context.query = op.query.load(dict(req.params))
        if op.body is not None:
            if req.content_type is None and (req.content_length or 0) > 0:
                # Some servers default a missing Content-Type (wsgiref: text/plain, hence 415),
                # others leave it out (gunicorn, waitress: Falcon then assumed JSON, 201): one
                # answer everywhere, the one Arkindex (DRF) gives.
                raise ApiError(status=415, type="client_error", errors=[error_entry(
                    "unsupported_media_type", "Send the body with `Content-Type: application/json`.")])
            media = req.get_media(default_when_empty={})
            req.context.body = op.body.load(media)
        if op.reads and req.context.identity is not None:
            user_id = req.context.identity.actor.user_id
            self.reads.before_read(req, resp, user_id, req.context.query.get("min_position"), op.reads)
