"""Named domain errors. The HTTP mapping lives in one place: api/errors.py."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a command was refused by a rule of the domain."""

    code = "invalid"
    #: the request field the error is about, when there is one (used for `attr` in API errors)
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field

    def compat_body(self) -> dict[str, object]:
        """Top-level keys the unmodified Arkindex clients parse for this error (their old
        DRF shapes, e.g. `non_field_errors`), sent beside our standard body. None by default."""
        return {}


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class AlreadyExists(DomainError):
    """Something unique already exists; `existing_id` lets a client recover it."""

    code = "unique"

    def __init__(self, message: str, *, existing_id: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.existing_id = existing_id


class UserRunAlreadyExists(AlreadyExists):
    """The invariant: one user worker run per worker version per user."""

    field = "worker_version_id"

    def __init__(self, existing_id: str) -> None:
        super().__init__(
            "A worker run already exists for this worker version on your local process.",
            existing_id=existing_id,
        )


class UsernameTaken(AlreadyExists):
    field = "username"


class WorkerVersionAlreadyExists(AlreadyExists):
    """A version with the same revision URL or tag already exists on this worker."""


class InvalidValue(DomainError):
    code = "invalid"


class VersionNotUsable(DomainError):
    """The worker version is archived or failed: no run may be created from it."""

    code = "invalid"
    field = "worker_version_id"


class VersionNotEditable(DomainError):
    code = "invalid"


class ClassificationAlreadyExists(AlreadyExists):
    """One classification per (element, ML class, worker run). The API adds the
    `non_field_errors` message Arkindex sends, which base-worker recognises and skips."""

    field = "ml_class"
    ARKINDEX_MESSAGE = "The fields element, worker_run, ml_class must make a unique set."


class RunAlreadyRetracted(DomainError):
    """The run was retracted already (issue 14): nothing left to retract."""

    code = "already_retracted"


class RunRetracted(DomainError):
    """A retracted run signs nothing more (issue 14)."""

    code = "run_retracted"
    field = "worker_run_id"
