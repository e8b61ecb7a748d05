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
