"""Every error the API answers, in one shape and one module (arkindex-api.md §6).

    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"attr": [...] | null, "code": "...", "detail": "..."}],
     ...extra top-level keys such as "existing_id"}

The official client turns this exact shape into typed exceptions (`ArkindexValidationError`
for 400, `ArkindexConflictError` for 409 with `existing_id`, ...), so every path that can end
a request, including Falcon's own 404/405 and unexpected exceptions, goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import falcon
import marshmallow
import sqlalchemy as sa
import structlog

from api import after_commit
from commands.errors import CommandConflict, IdempotencyKeyReused
from domain.errors import (
    AlreadyExists,
    ClassificationAlreadyExists,
    DomainError,
    NotFound,
    PermissionDenied,
    RunAlreadyRetracted,
    RunRetracted,
    WorkerVersionAlreadyExists,
)
from domain.events import EventDecodeError
from domain.image import ImageAlreadyExists
from eventstore.commit_outcome import CommitOutcomeUnknown
from eventstore.outage import is_db_unavailable
from integrations.errors import (
    IntegrationError,
    IntegrationNotFound,
    InvalidSubscriptionState,
    ReplayAheadOfCheckpoint,
    WebhookUrlRefused,
)

log = structlog.get_logger(__name__)

VALIDATION = "validation_error"
CLIENT = "client_error"
SERVER = "server_error"

# Codes for Falcon's own errors (route not found, bad method, malformed JSON, ...).
_STATUS_CODES = {
    400: "parse_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
}


_STATUS_DETAILS = {
    404: "Not found.",
    405: "Method not allowed on this path.",
}


def error_entry(code: str, detail: str, attr: list[str | int] | None = None) -> dict[str, Any]:
    return {"attr": attr, "code": code, "detail": detail}


class ApiError(falcon.HTTPError):
    """An HTTP error that already knows its body (type, errors, extra keys)."""

    def __init__(
        self,
        *,
        status: int,
        type: str,
        errors: list[dict[str, Any]],
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(falcon.code_to_http_status(status), headers=dict(headers or {}))
        self.error_type = type
        self.errors = errors
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return {"type": self.error_type, "errors": self.errors, **self.extra}


def not_found(detail: str = "Not found.") -> ApiError:
    return ApiError(status=404, type=CLIENT, errors=[error_entry("not_found", detail)])


def not_authenticated(detail: str) -> ApiError:
    # `WWW-Authenticate` tells generic HTTP clients which scheme to use.
    # `features` as Arkindex sends it: `arkindex login` reads `features.oidc` from this body to
    # choose between password sign-in (Login) and pasting a token.
    return ApiError(
        status=401, type=CLIENT, errors=[error_entry("not_authenticated", detail)],
        headers={"WWW-Authenticate": "Token"}, extra={"features": {"oidc": False}},
    )


def invalid(attr: list[str | int] | None, detail: str, code: str = "invalid") -> ApiError:
    return ApiError(status=400, type=VALIDATION, errors=[error_entry(code, detail, attr)])


def too_many_streams(*, per_user: bool, limit: int, retry_after: int) -> ApiError:
    """A deliberate limit on open live streams (integrations/stream_slots.py), not a fault:
    429 when the caller holds too many, 503 when the process has no stream slot left."""
    detail = (
        f"You already have {limit} live streams open on this server; close one (another tab?)."
        if per_user else f"This server already serves {limit} live streams; try again later."
    )
    return ApiError(
        status=429 if per_user else 503, type=CLIENT, errors=[error_entry("too_many_streams", detail)],
        headers={"Retry-After": str(retry_after)},
    )


# --- marshmallow messages -> Arkindex entries ----------------------------------------------

# marshmallow has no machine codes, only messages: map the standard ones to the codes DRF
# (hence Arkindex) uses, by prefix; anything else is "invalid".
_MESSAGE_CODES = (
    ("Missing data for required field", "required"),
    ("Field may not be null", "null"),
    ("Unknown field", "unknown_field"),
    ("Must be one of", "invalid_choice"),
    ("Shorter than minimum length", "min_length"),
    ("Longer than maximum length", "max_length"),
    ("Must be greater than or equal to", "min_value"),
    ("Must be less than or equal to", "max_value"),
    ("Must be greater than", "min_value"),
    ("Must be less than", "max_value"),
    ("May not be blank", "blank"),
)


def _code_for(message: str) -> str:
    for prefix, code in _MESSAGE_CODES:
        if message.startswith(prefix):
            return code
    return "invalid"


def flatten_messages(messages: Any, path: list[str | int] | None = None) -> list[dict[str, Any]]:
    """marshmallow's nested `{field: [msg]}` / `{field: {index: [msg]}}` -> a flat error list."""
    path = path or []
    if isinstance(messages, str):
        attr = None if not path or path == ["_schema"] else path
        return [error_entry(_code_for(messages), messages, attr)]
    if isinstance(messages, Mapping):
        entries = []
        for key, value in messages.items():
            step: str | int = key if isinstance(key, int) else str(key)
            entries.extend(flatten_messages(value, [*path, step]))
        return entries
    if isinstance(messages, list | tuple):
        entries = []
        for item in messages:
            entries.extend(flatten_messages(item, path))
        return entries
    return [error_entry("invalid", str(messages), path or None)]


# --- domain errors -> HTTP -----------------------------------------------------------------


def from_domain(exc: DomainError) -> ApiError:
    error = _from_domain(exc)
    # Shapes the unmodified Arkindex clients parse (domain/errors.py, compat_body), kept beside ours.
    error.extra.update(exc.compat_body())
    return error


def _from_domain(exc: DomainError) -> ApiError:
    attr: list[str | int] | None = [exc.field] if exc.field else None
    if isinstance(exc, NotFound):
        if exc.field:
            # Something named in the request body does not exist (or is not visible to the
            # caller, which must look the same): a validation error on that field.
            return invalid(attr, exc.message, code="does_not_exist")
        return not_found(exc.message)
    if isinstance(exc, PermissionDenied):
        return ApiError(status=403, type=CLIENT, errors=[error_entry("permission_denied", exc.message)])
    if isinstance(exc, RunAlreadyRetracted):
        # Valid, but in conflict with the run's state: nothing is left to retract (issue 14).
        return ApiError(status=409, type=CLIENT, errors=[error_entry(exc.code, exc.message, attr)])
    if isinstance(exc, RunRetracted):
        # The `worker_run_id` sent cannot sign: a validation error on that field, as for an
        # archived version, so base-worker stops with the message (issue 14).
        return invalid(attr, exc.message, code=exc.code)
    if isinstance(exc, WorkerVersionAlreadyExists):
        # 409 + existing_id: the client raises ArkindexConflictError and the CLI recovers the version.
        return ApiError(
            status=409, type=CLIENT, errors=[error_entry("unique", exc.message, attr)],
            extra={"existing_id": exc.existing_id},
        )
    if isinstance(exc, ClassificationAlreadyExists):
        # base-worker 0.6 recognises Arkindex's `non_field_errors` message for this case and
        # logs a warning instead of failing the element: keep that key beside our own shape.
        return ApiError(
            status=400, type=VALIDATION, errors=[error_entry("unique", exc.message, attr)],
            extra={"existing_id": exc.existing_id, "non_field_errors": [exc.ARKINDEX_MESSAGE]},
        )
    if isinstance(exc, ImageAlreadyExists):
        # The Arkindex CLI reads the existing image's id from the 400 body's `id` key.
        return ApiError(
            status=400, type=VALIDATION, errors=[error_entry("unique", exc.message, attr)],
            extra={"id": exc.existing_id, "existing_id": exc.existing_id},
        )
    if isinstance(exc, AlreadyExists):
        # A duplicate user worker run (or a taken slug): 400 validation error, code "unique".
        # The id of the existing object lets scripts recover it, when the caller may see it.
        extra = {"existing_id": exc.existing_id} if exc.existing_id else None
        return ApiError(
            status=400, type=VALIDATION, errors=[error_entry("unique", exc.message, attr)], extra=extra,
        )
    if isinstance(exc, IdempotencyKeyReused):
        return ApiError(status=422, type=CLIENT, errors=[error_entry(exc.code, exc.message, None)])
    if isinstance(exc, CommandConflict):
        # Transient by nature (other writers on the same object): say when to try again.
        return ApiError(status=409, type=CLIENT, errors=[error_entry("conflict", exc.message, None)],
                        headers={"Retry-After": "1"})
    return invalid(attr, exc.message, code=exc.code)


# --- integration errors -> HTTP (issue 7: feed, audit, webhooks) ---------------------------


def from_integration(exc: IntegrationError) -> ApiError:
    attr: list[str | int] | None = [exc.field] if exc.field else None
    if isinstance(exc, IntegrationNotFound):
        return not_found(exc.message)
    if isinstance(exc, InvalidSubscriptionState):
        return ApiError(status=409, type=CLIENT, errors=[error_entry("invalid_state", exc.message, attr)])
    if isinstance(exc, WebhookUrlRefused):
        return invalid(attr or ["url"], exc.message, code="url_refused")
    if isinstance(exc, ReplayAheadOfCheckpoint):
        # Valid input that conflicts with the subscription's current checkpoint: 409.
        return ApiError(status=409, type=CLIENT, errors=[error_entry("replay_ahead", exc.message, attr)])
    return invalid(attr, exc.message)


def handle_integration_error(
    req: falcon.Request, resp: falcon.Response, ex: IntegrationError, params: Any,
) -> None:
    handle_http_error(req, resp, from_integration(ex), params)


# --- Falcon error handlers -----------------------------------------------------------------


def _render(
    resp: falcon.Response, status: int | str, body: dict[str, Any], headers: Mapping[str, str],
) -> None:
    resp.status = status
    resp.media = body
    resp.content_type = falcon.MEDIA_JSON
    for name, value in headers.items():
        resp.set_header(name, value)


def handle_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any) -> None:
    if isinstance(ex, ApiError):
        _render(resp, ex.status, ex.body(), dict(ex.headers or {}))
        return
    # Falcon's own errors (unknown route, method not allowed, malformed JSON, ...).
    code = ex.status_code
    error_type = VALIDATION if code == 400 else (SERVER if code >= 500 else CLIENT)
    detail = ex.description or _STATUS_DETAILS.get(code) or ex.title or str(ex.status)
    _render(resp, ex.status, {
        "type": error_type, "errors": [error_entry(_STATUS_CODES.get(code, "error"), str(detail), None)],
    }, dict(ex.headers or {}))


def handle_domain_error(req: falcon.Request, resp: falcon.Response, ex: DomainError, params: Any) -> None:
    handle_http_error(req, resp, from_domain(ex), params)


def handle_validation_error(
    req: falcon.Request, resp: falcon.Response, ex: marshmallow.ValidationError, params: Any,
) -> None:
    _render(resp, 400, {"type": VALIDATION, "errors": flatten_messages(ex.messages)}, {})


#: seconds a client is told to wait after a database outage answer
DB_RETRY_AFTER = "2"


def handle_database_error(
    req: falcon.Request, resp: falcon.Response, ex: sa.exc.SQLAlchemyError, params: Any,
) -> None:
    """The database is unavailable (restart, failover, network): 503 + Retry-After, never a
    500. Any other database error is a genuine fault (handle_unexpected)."""
    if not is_db_unavailable(ex):
        handle_unexpected(req, resp, ex, params)
        return
    result = after_commit.committed(resp)
    if result is not None:
        log.warning("database_unavailable_after_commit", path=req.path, method=req.method)
        after_commit.answer_committed(req, resp, result)
        return
    log.warning("database_unavailable", path=req.path, method=req.method, error=type(ex).__name__)
    unknown = isinstance(ex, CommitOutcomeUnknown)
    detail = (
        "The database went away while your change was being saved and did not come back in "
        "time to tell whether it was: check before retrying, or retry with the same Idempotency-Key."
        if unknown else "The database is unavailable; nothing was changed. Try again shortly."
    )
    _render(resp, 503, {
        "type": SERVER,
        "errors": [error_entry("outcome_unknown" if unknown else "database_unavailable", detail, None)],
    }, {"Retry-After": DB_RETRY_AFTER})


def handle_undecodable(req: falcon.Request, resp: falcon.Response, ex: EventDecodeError, params: Any) -> None:
    """A stored event this version cannot read (written by a newer one, or its upcaster not
    deployed): a deployment fault that goes away with the right version, so 503 with the reason
    logged, not a 500 — and never a half-built answer."""
    result = after_commit.committed(resp)
    if result is not None:
        log.error("undecodable_event_after_commit", path=req.path, method=req.method, reason=str(ex))
        after_commit.answer_committed(req, resp, result)
        return
    log.error("undecodable_event", path=req.path, method=req.method, reason=str(ex))
    _render(resp, 503, {
        "type": SERVER,
        "errors": [error_entry(
            "event_not_decodable",
            "This server cannot read an event it has stored (written by a newer version, or its upcaster is "
            "not deployed). Nothing was changed; the operators must deploy the version that reads it.",
            None,
        )],
    }, {"Retry-After": DB_RETRY_AFTER})


def handle_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
    result = after_commit.committed(resp)
    if result is not None:
        # The command committed: answering an error would make the client retry and
        # duplicate it. The fault is logged all the same.
        log.exception("unhandled_error_after_commit", path=req.path, method=req.method)
        after_commit.answer_committed(req, resp, result)
        return
    # A genuine server fault: logged with its traceback, never shown to the client.
    log.exception("unhandled_error", path=req.path, method=req.method)
    _render(resp, 500, {
        "type": SERVER, "errors": [error_entry("server_error", "A server error occurred.", None)],
    }, {})


def install(app: falcon.App) -> None:
    """Register the handlers. Falcon picks the most specific one for each exception."""
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(DomainError, handle_domain_error)
    app.add_error_handler(marshmallow.ValidationError, handle_validation_error)
    app.add_error_handler(sa.exc.SQLAlchemyError, handle_database_error)
    app.add_error_handler(IntegrationError, handle_integration_error)
    app.add_error_handler(EventDecodeError, handle_undecodable)
