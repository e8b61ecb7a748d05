"""Domain events: immutable dataclasses, stored as JSON payloads.

Each class has a `schema_version`. When a shape changes, bump it and register an upcaster
in `UPCASTERS` that turns the stored older payload into the current one: stored events are
never rewritten (the events table refuses UPDATE), they are upcast on read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class DomainEvent:
    schema_version: ClassVar[int] = 1

    @property
    def event_type(self) -> str:
        return type(self).__name__

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- User ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRegistered(DomainEvent):
    user_id: str
    username: str
    email: str | None = None
    is_admin: bool = False


@dataclass(frozen=True)
class TokenIssued(DomainEvent):
    user_id: str
    token_id: str
    # Only a SHA-256 of the token is ever stored: the clear token is shown once.
    token_hash: str
    label: str = ""


@dataclass(frozen=True)
class TokenRevoked(DomainEvent):
    user_id: str
    token_id: str


@dataclass(frozen=True)
class UserPasswordSet(DomainEvent):
    """The user's password was set or changed (issue 10 B). The hash itself is not an event:
    it lives in `user_passwords` (api/users/sign_in_tables.py), out of the append-only log."""

    user_id: str


# --- Worker types and workers -------------------------------------------------------------


@dataclass(frozen=True)
class WorkerTypeCreated(DomainEvent):
    type_id: str
    slug: str
    display_name: str


@dataclass(frozen=True)
class WorkerCreated(DomainEvent):
    worker_id: str
    name: str
    slug: str
    type: str
    owner_id: str
    description: str = ""
    repository_url: str | None = None


@dataclass(frozen=True)
class WorkerUpdated(DomainEvent):
    worker_id: str
    # Only the fields that changed: a subset of name, type, description, archived.
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkerAccessGranted(DomainEvent):
    worker_id: str
    user_id: str
    granted_by: str


@dataclass(frozen=True)
class WorkerVersionCreated(DomainEvent):
    worker_id: str
    version_id: str
    number: int
    configuration: dict[str, Any] = field(default_factory=dict)
    docker_image_iid: str | None = None
    revision_url: str | None = None
    gpu_usage: str = "disabled"
    model_usage: str = "disabled"
    state: str = "available"
    tag: str | None = None
    branch: str | None = None


@dataclass(frozen=True)
class WorkerVersionUpdated(DomainEvent):
    worker_id: str
    version_id: str
    changes: dict[str, Any] = field(default_factory=dict)


# --- Configurations and models ------------------------------------------------------------


@dataclass(frozen=True)
class WorkerConfigurationCreated(DomainEvent):
    configuration_id: str
    worker_id: str
    name: str
    configuration: dict[str, Any] = field(default_factory=dict)
    # Keys of `configuration` whose values are secrets (shown as `secret: true`).
    secret_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelCreated(DomainEvent):
    model_id: str
    name: str
    owner_id: str
    description: str = ""


@dataclass(frozen=True)
class ModelVersionCreated(DomainEvent):
    model_id: str
    model_version_id: str
    number: int
    configuration: dict[str, Any] = field(default_factory=dict)
    tag: str | None = None
    state: str = "available"


# --- User worker runs ---------------------------------------------------------------------


@dataclass(frozen=True)
class UserWorkerRunCreated(DomainEvent):
    process_id: str
    user_id: str
    run_id: str
    worker_id: str
    worker_version_id: str
    summary: str
    configuration_id: str | None = None
    model_version_id: str | None = None


@dataclass(frozen=True)
class WorkerRunRetracted(DomainEvent):
    """Everything the run signed is withdrawn (issue 14): the listings hide it, the run signs
    nothing more. The objects' own events stay in the log: the audit trail keeps what was
    there, and this event says who retracted it and when."""

    process_id: str
    user_id: str  # the run's owner
    run_id: str
    retracted_by: str  # the owner, or an administrator


# --- Documents: what workers publish, each signed by its creator ---------------------------


@dataclass(frozen=True)
class CorpusCreated(DomainEvent):
    corpus_id: str
    name: str
    owner_id: str
    description: str = ""


@dataclass(frozen=True)
class ElementTypeCreated(DomainEvent):
    corpus_id: str
    type_id: str
    slug: str
    display_name: str
    folder: bool = False
    color: str = "28b62c"


@dataclass(frozen=True)
class MLClassCreated(DomainEvent):
    corpus_id: str
    class_id: str
    name: str


@dataclass(frozen=True)
class ElementCreated(DomainEvent):
    element_id: str
    corpus_id: str
    type: str
    name: str
    user_id: str
    worker_run_id: str | None = None
    parent_id: str | None = None
    #: closed, integer points on the image (issue 10); events older than zones may hold floats
    polygon: list[list[int]] | None = None
    image_id: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class TranscriptionCreated(DomainEvent):
    element_id: str
    transcription_id: str
    text: str
    user_id: str
    worker_run_id: str | None = None
    confidence: float | None = None
    orientation: str = "horizontal-lr"


@dataclass(frozen=True)
class ClassificationCreated(DomainEvent):
    element_id: str
    classification_id: str
    ml_class_id: str
    confidence: float
    user_id: str
    worker_run_id: str | None = None
    high_confidence: bool = False


@dataclass(frozen=True)
class MetaDataCreated(DomainEvent):
    element_id: str
    metadata_id: str
    type: str
    name: str
    value: Any
    user_id: str
    worker_run_id: str | None = None
    entity_id: str | None = None


# --- Images (issue 10): IIIF image servers and images -----------------------------------


@dataclass(frozen=True)
class ImageServerCreated(DomainEvent):
    server_id: str
    url: str
    display_name: str
    #: the IIIF Image API major version (2 or 3)
    version: int = 2
    max_width: int | None = None
    max_height: int | None = None


@dataclass(frozen=True)
class ImageCreated(DomainEvent):
    image_id: str
    server_id: str
    url: str
    #: the image's identifier on its server: `url` minus the server's URL
    path: str
    width: int
    height: int
    status: str
    user_id: str


@dataclass(frozen=True)
class ImageStatusUpdated(DomainEvent):
    image_id: str
    status: str


# --- Element tree (issue 10 B): more parents than the one given at creation ----------------


@dataclass(frozen=True)
class ElementParentAdded(DomainEvent):
    """`child_id` is now also a child of `parent_id` (stream of the child)."""

    child_id: str
    parent_id: str
    corpus_id: str
    user_id: str


@dataclass(frozen=True)
class ElementUpdated(DomainEvent):
    """PartialUpdateElement (issue 10): only the fields that changed, a subset of type, name,
    polygon, image_id, confidence, rotation_angle, mirrored."""

    element_id: str
    changes: dict[str, Any] = field(default_factory=dict)
    user_id: str = ""


# --- Transcription entities (issue 10 B) ------------------------------------------------


@dataclass(frozen=True)
class EntityTypeCreated(DomainEvent):
    corpus_id: str
    type_id: str
    name: str
    color: str = "ff0000"


@dataclass(frozen=True)
class TranscriptionEntityCreated(DomainEvent):
    """An entity of type `type_id` at [offset, offset + length) of a transcription's text
    (stream of the transcription's element)."""

    element_id: str
    transcription_id: str
    entity_id: str
    type_id: str
    offset: int
    length: int
    user_id: str
    worker_run_id: str | None = None
    confidence: float | None = None


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.__name__: cls
    for cls in (
        UserRegistered,
        TokenIssued,
        TokenRevoked,
        UserPasswordSet,
        WorkerTypeCreated,
        WorkerCreated,
        WorkerUpdated,
        WorkerAccessGranted,
        WorkerVersionCreated,
        WorkerVersionUpdated,
        WorkerConfigurationCreated,
        ModelCreated,
        ModelVersionCreated,
        UserWorkerRunCreated,
        WorkerRunRetracted,  # issue 14
        CorpusCreated,
        ElementTypeCreated,
        MLClassCreated,
        ElementCreated,
        TranscriptionCreated,
        ClassificationCreated,
        MetaDataCreated,
        # images (issue 10)
        ImageServerCreated,
        ImageCreated,
        ImageStatusUpdated,
        ElementParentAdded,  # issue 10 B
        ElementUpdated,
        EntityTypeCreated,  # issue 10 B
        TranscriptionEntityCreated,  # issue 10 B
    )
}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

#: (event type, stored schema version) -> function returning the payload at version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def decode(event_type: str, schema_version: int, payload: dict[str, Any]) -> DomainEvent:
    """Rebuild a domain event from its stored form, upcasting older schema versions."""
    try:
        cls = EVENT_TYPES[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None
    while schema_version < cls.schema_version:
        payload = UPCASTERS[(event_type, schema_version)](payload)
        schema_version += 1
    return _build(cls, payload)


#: each event class's field names (a payload written by `to_payload` has exactly these keys)
_FIELDS: dict[type[DomainEvent], frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()
}


def _build(cls: type[DomainEvent], payload: dict[str, Any]) -> DomainEvent:
    """`cls(**payload)`, faster when the payload has every field and nothing else.

    Every reader decodes every event it reads (projection rebuilds, replays, the feed), and a
    frozen dataclass's __init__ sets each field through object.__setattr__, which costs more than
    the rest of decoding. Given exactly the fields, __init__ would only store them (the events
    have no __post_init__), so they are stored directly. Otherwise __init__ runs: it fills the
    defaults an older payload lacks and names an unexpected or missing field in its TypeError.
    """
    if payload.keys() == _FIELDS.get(cls):
        event = object.__new__(cls)
        event.__dict__.update(payload)
        return event
    return cls(**payload)
