"""Domain events -> public integration events (docs/integration-events.md, schema version 1).

Integrators never see internal event shapes: each exposed domain event type has a pure
translator here that builds the public `data` (the resource as of that event, a documented
subset of what the API shows) from the stored event alone. When a domain event changes shape,
its upcaster (domain/events.py) and, if needed, its translator change; the public schema
does not. Domain events without a translator (token issuance, ...) are not exposed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain import published
from domain.events import decode
from eventstore.records import StoredEvent

#: bumped on any incompatible change of the envelope or of a `data` shape
SCHEMA_VERSION = 1

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class Translator:
    public_type: str
    data: Callable[[Payload], dict[str, Any]]


def _user(p: Payload) -> dict[str, Any]:
    return published.user(p["user_id"], p["username"], p.get("email"), bool(p.get("is_admin")))


def _worker_type(p: Payload) -> dict[str, Any]:
    return {"id": p["type_id"], "slug": p["slug"], "display_name": p["display_name"]}


def _worker(p: Payload) -> dict[str, Any]:
    return {
        "id": p["worker_id"],
        "name": p["name"],
        "slug": p["slug"],
        "type": p["type"],
        "description": p.get("description", ""),
        "repository_url": p.get("repository_url"),
        "owner_id": p["owner_id"],
        "archived": False,
    }


def _changes(id_key: str) -> Callable[[Payload], dict[str, Any]]:
    def build(p: Payload) -> dict[str, Any]:
        data = {"id": p[id_key], "changes": dict(p.get("changes") or {})}
        if id_key != "worker_id":
            data["worker_id"] = p["worker_id"]
        return data

    return build


def _access(p: Payload) -> dict[str, Any]:
    return {"worker_id": p["worker_id"], "user_id": p["user_id"], "granted_by": p["granted_by"]}


def _worker_version(p: Payload) -> dict[str, Any]:
    return {
        "id": p["version_id"],
        "worker_id": p["worker_id"],
        "version": p["number"],
        "configuration": p.get("configuration") or {},
        "docker_image_iid": p.get("docker_image_iid"),
        "revision_url": p.get("revision_url"),
        "gpu_usage": p.get("gpu_usage", "disabled"),
        "model_usage": p.get("model_usage", "disabled"),
        "state": p.get("state", "available"),
        "tag": p.get("tag"),
        "branch": p.get("branch"),
    }


def _worker_configuration(p: Payload) -> dict[str, Any]:
    # Secret values never leave the server: integrators see that the key exists.
    secrets = set(p.get("secret_keys") or [])
    values = p.get("configuration") or {}
    return {
        "id": p["configuration_id"],
        "worker_id": p["worker_id"],
        "name": p["name"],
        "configuration": {k: (None if k in secrets else v) for k, v in values.items()},
        "secret_keys": sorted(secrets),
    }


def _model(p: Payload) -> dict[str, Any]:
    return {
        "id": p["model_id"],
        "name": p["name"],
        "owner_id": p["owner_id"],
        "description": p.get("description", ""),
    }


def _model_version(p: Payload) -> dict[str, Any]:
    return {
        "id": p["model_version_id"],
        "model_id": p["model_id"],
        "number": p["number"],
        "tag": p.get("tag"),
        "state": p.get("state", "available"),
    }


def _worker_run(p: Payload) -> dict[str, Any]:
    return {
        "id": p["run_id"],
        "summary": p["summary"],
        "process": published.local_process(p["user_id"], p["process_id"]),
        "owner_id": p["user_id"],
        "worker_id": p["worker_id"],
        "worker_version_id": p["worker_version_id"],
        "configuration_id": p.get("configuration_id"),
        "model_version_id": p.get("model_version_id"),
    }


#: domain event type -> translator: the one list of what integrators can receive
TRANSLATORS: dict[str, Translator] = {
    "UserRegistered": Translator("user.created", _user),
    "WorkerTypeCreated": Translator("worker_type.created", _worker_type),
    "WorkerCreated": Translator("worker.created", _worker),
    "WorkerUpdated": Translator("worker.updated", _changes("worker_id")),
    "WorkerAccessGranted": Translator("worker.access_granted", _access),
    "WorkerVersionCreated": Translator("worker_version.created", _worker_version),
    "WorkerVersionUpdated": Translator("worker_version.updated", _changes("version_id")),
    "WorkerConfigurationCreated": Translator("worker_configuration.created", _worker_configuration),
    "ModelCreated": Translator("model.created", _model),
    "ModelVersionCreated": Translator("model_version.created", _model_version),
    "UserWorkerRunCreated": Translator("worker_run.created", _worker_run),
}

#: public type -> domain event type
DOMAIN_TYPES: dict[str, str] = {t.public_type: domain for domain, t in TRANSLATORS.items()}
PUBLIC_TYPES: tuple[str, ...] = tuple(sorted(DOMAIN_TYPES))
#: the synthetic event a subscription's "send a test event" delivers
TEST_EVENT_TYPE = "webhook.test"


def domain_types(public_types: list[str] | None) -> list[str]:
    """Public type names -> the domain event types to read (all exposed types when empty)."""
    return [DOMAIN_TYPES[t] for t in public_types] if public_types else list(TRANSLATORS)


def translate(event: StoredEvent) -> dict[str, Any] | None:
    """The public integration event for a stored event, or None when it is not exposed."""
    translator = TRANSLATORS.get(event.event_type)
    if translator is None:
        return None
    # Upcast through the domain so an old stored shape yields today's payload.
    payload = decode(event.event_type, event.schema_version, event.payload).to_payload()
    return {
        "id": event.event_id,
        "type": translator.public_type,
        "schema_version": SCHEMA_VERSION,
        "position": event.global_position,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": {"type": event.actor_type, "id": event.actor_id},
        "correlation_id": event.correlation_id,
        "data": translator.data(payload),
    }
