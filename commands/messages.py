"""Commands: what a caller asks for. Plain dataclasses; one handler each (commands/handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Command:
    pass


@dataclass(frozen=True)
class RegisterUser(Command):
    username: str
    email: str | None = None
    is_admin: bool = False


@dataclass(frozen=True)
class IssueToken(Command):
    user_id: str
    # The caller generates the token and sends only its hash: the clear token is never
    # stored, not even in the command log.
    token_hash: str
    label: str = ""


@dataclass(frozen=True)
class RevokeToken(Command):
    user_id: str
    token_id: str


@dataclass(frozen=True)
class CreateWorker(Command):
    name: str
    slug: str
    type: str  # free text: the worker type is created on the fly
    description: str = ""
    repository_url: str | None = None


@dataclass(frozen=True)
class UpdateWorker(Command):
    worker_id: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GrantWorkerAccess(Command):
    worker_id: str
    user_id: str


@dataclass(frozen=True)
class CreateWorkerVersion(Command):
    worker_id: str
    # Every field optional (see domain.events.WorkerVersionCreated for the names).
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateWorkerVersion(Command):
    version_id: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateWorkerConfiguration(Command):
    worker_id: str
    name: str
    configuration: dict[str, Any] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CreateModel(Command):
    name: str
    description: str = ""


@dataclass(frozen=True)
class CreateModelVersion(Command):
    model_id: str
    configuration: dict[str, Any] = field(default_factory=dict)
    tag: str | None = None


@dataclass(frozen=True)
class CreateUserRun(Command):
    worker_version_id: str
    configuration_id: str | None = None
    model_version_id: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class QuickUserRun(Command):
    """Issue 14, the one-step run: get or create the worker (by slug), a version of it and the
    caller's run on that version, in one unit of work (so in one transaction).

    With `revision_url` (a checkout's commit) the version of that revision is reused, or
    created; without it, the newest usable version (with this docker image, when given)."""

    name: str
    type: str = "worker"
    slug: str | None = None  # default: derived from the name, as CreateWorker does
    docker_image_iid: str | None = None
    revision_url: str | None = None
    #: set on a worker this command creates (the checkout's remote); an existing one keeps its own
    repository_url: str | None = None


# --- Documents (issue 5): what workers publish, signed by a user worker run or by the user ----


@dataclass(frozen=True, kw_only=True)
class SignedByRun:
    """Mixin of the commands whose objects a user worker run may sign. The signing run travels
    on the command itself: its handler checks the run (commands/signing.py) and the bus records
    it in the events' indexed `worker_run_id` column (audit and provenance by run).

    Keyword-only, so it follows each command's own fields; not a Command itself, so every
    Command subclass stays a concrete command with a handler."""

    #: the run that signs the objects; None: created by the user alone
    worker_run_id: str | None = None


@dataclass(frozen=True)
class CreateCorpus(Command):
    name: str
    description: str = ""


@dataclass(frozen=True)
class CreateElementType(Command):
    corpus_id: str
    slug: str
    display_name: str
    folder: bool = False
    color: str = "28b62c"


@dataclass(frozen=True)
class CreateMLClass(Command):
    corpus_id: str
    name: str


@dataclass(frozen=True)
class CreateElement(Command, SignedByRun):
    corpus_id: str
    type: str
    name: str
    parent_id: str | None = None
    polygon: list[list[float]] | None = None
    image_id: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class TranscriptionItem:
    element_id: str
    text: str
    confidence: float | None = None
    orientation: str = "horizontal-lr"


@dataclass(frozen=True)
class CreateTranscription(Command, SignedByRun):
    element_id: str
    item: TranscriptionItem


@dataclass(frozen=True)
class CreateTranscriptions(Command, SignedByRun):
    """The bulk endpoint: many transcriptions on many elements in one command, so a batch is
    appended in one transaction or not at all."""

    items: tuple[TranscriptionItem, ...]


@dataclass(frozen=True)
class ClassificationItem:
    ml_class_id: str
    confidence: float
    high_confidence: bool = False


@dataclass(frozen=True)
class CreateClassification(Command, SignedByRun):
    element_id: str
    item: ClassificationItem


@dataclass(frozen=True)
class CreateClassifications(Command, SignedByRun):
    """A batch of classifications on one element, appended together or not at all."""

    element_id: str
    items: tuple[ClassificationItem, ...]


@dataclass(frozen=True)
class CreateMetaData(Command, SignedByRun):
    element_id: str
    type: str
    name: str
    value: Any
    entity_id: str | None = None


@dataclass(frozen=True)
class MetaDataItem:
    type: str
    name: str
    value: Any


@dataclass(frozen=True)
class CreateMetaDataBulk(Command, SignedByRun):
    """Many metadata on one element, appended together or not at all."""

    element_id: str
    items: tuple[MetaDataItem, ...]
