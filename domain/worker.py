"""`WorkerType` (stream `worker-type-<slug>`) and `Worker` (stream `worker-<uuid>`) aggregates.

A worker owns its numbered versions (1, 2, 3, ...): numbering is a decision of the worker,
so it lives in the same stream and two racing version creations cannot get the same number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.errors import (
    InvalidValue,
    NotFound,
    PermissionDenied,
    VersionNotEditable,
    VersionNotUsable,
    WorkerVersionAlreadyExists,
)
from domain.events import (
    WorkerAccessGranted,
    WorkerCreated,
    WorkerTypeCreated,
    WorkerUpdated,
    WorkerVersionCreated,
    WorkerVersionUpdated,
)

USAGES = ("disabled", "supported", "required")
VERSION_STATES = ("created", "building", "available", "error")
WORKER_UPDATABLE = ("name", "type", "description", "archived")
# What CreateWorkerVersion may set (every one optional); anything else is refused by name
# instead of reaching the event's constructor as a TypeError.
VERSION_CREATABLE = (
    "configuration", "docker_image_iid", "revision_url", "gpu_usage", "model_usage", "state", "tag", "branch",
)
VERSION_UPDATABLE = (
    "configuration", "gpu_usage", "model_usage", "docker_image_iid", "state", "tag", "branch", "archived",
)


def worker_type_stream(slug: str) -> str:
    return f"worker-type-{slug}"


def worker_stream(worker_id: str) -> str:
    return f"worker-{worker_id}"


class WorkerType(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.type_id = ""
        self.slug = ""
        self.display_name = ""

    def create(self, type_id: str, slug: str, display_name: str) -> None:
        if self.exists:
            return  # first writer wins; a second create of the same type is not an error
        if not slug:
            raise InvalidValue("A worker type needs at least one letter or digit.", field="type")
        self._record(WorkerTypeCreated(type_id=type_id, slug=slug, display_name=display_name))

    def when_WorkerTypeCreated(self, e: WorkerTypeCreated) -> None:
        self.type_id, self.slug, self.display_name = e.type_id, e.slug, e.display_name


@dataclass(frozen=True)
class VersionState:
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
    archived: bool = False


def _check_version_fields(fields: dict[str, Any]) -> None:
    for key in ("gpu_usage", "model_usage"):
        if key in fields and fields[key] not in USAGES:
            raise InvalidValue(f"{key} must be one of {', '.join(USAGES)}.", field=key)
    if "state" in fields and fields["state"] not in VERSION_STATES:
        raise InvalidValue(f"state must be one of {', '.join(VERSION_STATES)}.", field="state")
    if "configuration" in fields and not isinstance(fields["configuration"], dict):
        raise InvalidValue("configuration must be a JSON object.", field="configuration")


class Worker(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.worker_id = ""
        self.name = ""
        self.slug = ""
        self.type = ""
        self.description = ""
        self.repository_url: str | None = None
        self.owner_id = ""
        self.archived = False
        self.users: set[str] = set()  # granted users (the owner is implicit)
        self.versions: dict[str, VersionState] = {}

    # --- queries ----------------------------------------------------------------------------

    def can_use(self, actor: Actor) -> bool:
        return actor.is_admin or actor.user_id == self.owner_id or actor.user_id in self.users

    def can_manage(self, actor: Actor) -> bool:
        return actor.is_admin or actor.user_id == self.owner_id

    def get_version(self, version_id: str) -> VersionState:
        try:
            return self.versions[version_id]
        except KeyError:
            raise NotFound("No such worker version.", field="worker_version_id") from None

    def usable_version(self, version_id: str, actor: Actor) -> VersionState:
        """The version a run may be created from, or a named error saying why not."""
        if not self.can_use(actor):
            raise NotFound("No such worker version.", field="worker_version_id")
        version = self.get_version(version_id)
        if self.archived or version.archived or version.state == "error":
            raise VersionNotUsable("This worker version is archived or in error and cannot be used.")
        return version

    def version_for_run(
        self, actor: Actor, *, revision_url: str | None = None, docker_image_iid: str | None = None,
    ) -> VersionState | None:
        """The version a one-step run reuses (QuickUserRun), or None when it needs a new one.

        A revision names one version (revision URLs are unique on a worker): that one, or a
        named error when it cannot be used, since another with the same revision cannot be
        made. Without a revision, the newest usable version (with this docker image, if given).
        """
        if not self.can_use(actor):
            raise NotFound("No such worker.")
        if self.archived:
            raise VersionNotUsable("This worker is archived: no run may be created from it.", field="name")
        if revision_url:
            for version in self.versions.values():
                if version.revision_url != revision_url:
                    continue
                if version.archived or version.state == "error":
                    raise VersionNotUsable(
                        "The version of this revision is archived or in error: no run may use it.",
                        field="revision_url",
                    )
                if docker_image_iid and version.docker_image_iid != docker_image_iid:
                    raise InvalidValue(
                        f"The version of this revision has docker image {version.docker_image_iid!r}, "
                        f"not {docker_image_iid!r}.", field="docker_image_iid",
                    )
                return version
            return None
        candidates = [
            v for v in self.versions.values()
            if not v.archived and v.state != "error"
            and (docker_image_iid is None or v.docker_image_iid == docker_image_iid)
        ]
        return max(candidates, key=lambda v: v.number, default=None)

    # --- decisions --------------------------------------------------------------------------

    def create(
        self, *, worker_id: str, name: str, slug: str, type: str, owner_id: str,
        description: str = "", repository_url: str | None = None,
    ) -> None:
        if self.exists:
            return
        if not name.strip():
            raise InvalidValue("A worker needs a name.", field="name")
        if not slug:
            raise InvalidValue("A worker needs a slug.", field="slug")
        self._record(WorkerCreated(
            worker_id=worker_id, name=name, slug=slug, type=type, owner_id=owner_id,
            description=description, repository_url=repository_url,
        ))

    def update(self, actor: Actor, changes: dict[str, Any]) -> None:
        self._require_manager(actor)
        unknown = set(changes) - set(WORKER_UPDATABLE)
        if unknown:
            raise InvalidValue(f"Cannot update {', '.join(sorted(unknown))}.")
        if "name" in changes and not str(changes["name"]).strip():
            raise InvalidValue("A worker needs a name.", field="name")
        effective = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if effective:
            self._record(WorkerUpdated(worker_id=self.worker_id, changes=effective))

    def grant_access(self, actor: Actor, user_id: str) -> None:
        self._require_manager(actor)
        if user_id == self.owner_id or user_id in self.users:
            return
        self._record(WorkerAccessGranted(worker_id=self.worker_id, user_id=user_id, granted_by=actor.user_id))

    def create_version(self, actor: Actor, version_id: str, fields: dict[str, Any]) -> None:
        self._require_manager(actor)
        unknown = set(fields) - set(VERSION_CREATABLE)
        if unknown:
            raise InvalidValue(f"Cannot set {', '.join(sorted(unknown))} on a new version.")
        _check_version_fields(fields)
        self._check_unique(fields)
        self._record(WorkerVersionCreated(
            worker_id=self.worker_id, version_id=version_id, number=len(self.versions) + 1, **fields,
        ))

    def update_version(self, actor: Actor, version_id: str, changes: dict[str, Any]) -> None:
        # A hidden worker's version answers like an unknown version: no existence oracle.
        self._require_manager(actor, hidden="No such worker version.")
        current = self.get_version(version_id)
        unknown = set(changes) - set(VERSION_UPDATABLE)
        if unknown:
            raise InvalidValue(f"Cannot update {', '.join(sorted(unknown))}.")
        _check_version_fields(changes)
        effective = {k: v for k, v in changes.items() if getattr(current, k) != v}
        # A tag may not be moved onto one another version already has (same rule as creation).
        self._check_unique(effective, skip=version_id)
        if "configuration" in effective and current.state == "available" and current.revision_url:
            # Arkindex refuses to change what a published (Git-built) version computes.
            raise VersionNotEditable(
                "The configuration of an available version cannot be changed.", field="configuration",
            )
        if effective:
            self._record(WorkerVersionUpdated(
                worker_id=self.worker_id, version_id=version_id, changes=effective,
            ))

    def _check_unique(self, fields: dict[str, Any], skip: str | None = None) -> None:
        for existing in self.versions.values():
            if existing.version_id == skip:
                continue
            for key in ("revision_url", "tag"):
                if fields.get(key) and getattr(existing, key) == fields[key]:
                    raise WorkerVersionAlreadyExists(
                        f"A version with this {key} already exists on this worker.",
                        existing_id=existing.version_id, field=key,
                    )

    def _require_manager(self, actor: Actor, hidden: str = "No such worker.") -> None:
        if not self.exists:
            raise NotFound(hidden)
        if not self.can_manage(actor):
            if self.can_use(actor):
                raise PermissionDenied("Only the owner of this worker may change it.")
            raise NotFound(hidden)

    # --- evolution --------------------------------------------------------------------------

    def when_WorkerCreated(self, e: WorkerCreated) -> None:
        self.worker_id, self.name, self.slug, self.type = e.worker_id, e.name, e.slug, e.type
        self.owner_id, self.description, self.repository_url = e.owner_id, e.description, e.repository_url

    def when_WorkerUpdated(self, e: WorkerUpdated) -> None:
        for key, value in e.changes.items():
            setattr(self, key, value)

    def when_WorkerAccessGranted(self, e: WorkerAccessGranted) -> None:
        self.users.add(e.user_id)

    def when_WorkerVersionCreated(self, e: WorkerVersionCreated) -> None:
        fields = e.to_payload()
        fields.pop("worker_id")
        self.versions[e.version_id] = VersionState(**fields)

    def when_WorkerVersionUpdated(self, e: WorkerVersionUpdated) -> None:
        self.versions[e.version_id] = replace(self.versions[e.version_id], **e.changes)
