"""Domain events -> public integration events (docs/integration-events.md, schema version 1).

Integrators never see internal event shapes: each exposed domain event class has a pure
translator here that builds the public `data` (the resource as of that event, a documented
subset of what the API shows) from the decoded event alone (projections/envelope.py). When a
domain event changes shape, its upcaster (domain/events.py) and, if needed, its translator
change; the public schema does not. Domain events without a translator (token issuance, ...)
are not exposed (`NOT_EXPOSED`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain import events as ev
from domain import published
from eventstore.records import StoredEvent
from projections.envelope import recorded

#: bumped on any incompatible change of the envelope or of a `data` shape
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Translator:
    public_type: str
    #: the decoded, upcast domain event (of the class it is registered for) -> the public `data`
    data: Callable[[Any], dict[str, Any]]


def _user(u: ev.UserRegistered) -> dict[str, Any]:
    return published.user(u.user_id, u.username, u.email, bool(u.is_admin))


def _worker_type(t: ev.WorkerTypeCreated) -> dict[str, Any]:
    return {"id": t.type_id, "slug": t.slug, "display_name": t.display_name}


def _worker(w: ev.WorkerCreated) -> dict[str, Any]:
    return {
        "id": w.worker_id,
        "name": w.name,
        "slug": w.slug,
        "type": w.type,
        "description": w.description,
        "repository_url": w.repository_url,
        "owner_id": w.owner_id,
        "archived": False,
    }


def _worker_changes(w: ev.WorkerUpdated) -> dict[str, Any]:
    return {"id": w.worker_id, "changes": dict(w.changes or {})}


def _worker_version_changes(v: ev.WorkerVersionUpdated) -> dict[str, Any]:
    return {"id": v.version_id, "changes": dict(v.changes or {}), "worker_id": v.worker_id}


def _access(a: ev.WorkerAccessGranted) -> dict[str, Any]:
    return {"worker_id": a.worker_id, "user_id": a.user_id, "granted_by": a.granted_by}


def _worker_version(v: ev.WorkerVersionCreated) -> dict[str, Any]:
    return {
        "id": v.version_id,
        "worker_id": v.worker_id,
        "version": v.number,
        "configuration": v.configuration or {},
        "docker_image_iid": v.docker_image_iid,
        "revision_url": v.revision_url,
        "gpu_usage": v.gpu_usage,
        "model_usage": v.model_usage,
        "state": v.state,
        "tag": v.tag,
        "branch": v.branch,
    }


def _worker_configuration(c: ev.WorkerConfigurationCreated) -> dict[str, Any]:
    # Secret values never leave the server: integrators see that the key exists.
    secrets = set(c.secret_keys or [])
    values = c.configuration or {}
    return {
        "id": c.configuration_id,
        "worker_id": c.worker_id,
        "name": c.name,
        "configuration": {k: (None if k in secrets else v) for k, v in values.items()},
        "secret_keys": sorted(secrets),
    }


def _model(m: ev.ModelCreated) -> dict[str, Any]:
    return {"id": m.model_id, "name": m.name, "owner_id": m.owner_id, "description": m.description}


def _model_version(m: ev.ModelVersionCreated) -> dict[str, Any]:
    return {
        "id": m.model_version_id,
        "model_id": m.model_id,
        "number": m.number,
        "tag": m.tag,
        "state": m.state,
    }


def _worker_run(r: ev.UserWorkerRunCreated) -> dict[str, Any]:
    return {
        "id": r.run_id,
        "summary": r.summary,
        "process": published.local_process(r.user_id, r.process_id),
        "owner_id": r.user_id,
        "worker_id": r.worker_id,
        "worker_version_id": r.worker_version_id,
        "configuration_id": r.configuration_id,
        "model_version_id": r.model_version_id,
    }


#: domain event class -> translator: the one list of what integrators can receive
TRANSLATORS: dict[type[ev.DomainEvent], Translator] = {
    ev.UserRegistered: Translator("user.created", _user),
    ev.WorkerTypeCreated: Translator("worker_type.created", _worker_type),
    ev.WorkerCreated: Translator("worker.created", _worker),
    ev.WorkerUpdated: Translator("worker.updated", _worker_changes),
    ev.WorkerAccessGranted: Translator("worker.access_granted", _access),
    ev.WorkerVersionCreated: Translator("worker_version.created", _worker_version),
    ev.WorkerVersionUpdated: Translator("worker_version.updated", _worker_version_changes),
    ev.WorkerConfigurationCreated: Translator("worker_configuration.created", _worker_configuration),
    ev.ModelCreated: Translator("model.created", _model),
    ev.ModelVersionCreated: Translator("model_version.created", _model_version),
    ev.UserWorkerRunCreated: Translator("worker_run.created", _worker_run),
}

#: Domain event classes integrators never receive (not in the public schema). Every class is in
#: TRANSLATORS or here: tests/unit/test_integrations_translator.py fails when a new one is in neither.
NOT_EXPOSED: frozenset[type[ev.DomainEvent]] = frozenset({
    # credentials and their changes never leave the server
    ev.TokenIssued, ev.TokenRevoked, ev.UserPasswordSet,
    # documents, images and what workers publish on them: not in schema version 1
    ev.CorpusCreated, ev.ElementTypeCreated, ev.MLClassCreated, ev.ElementCreated, ev.ElementParentAdded,
    ev.ElementUpdated, ev.TranscriptionCreated, ev.ClassificationCreated, ev.MetaDataCreated,
    ev.EntityTypeCreated, ev.TranscriptionEntityCreated, ev.ImageServerCreated, ev.ImageCreated,
    ev.ImageStatusUpdated, ev.WorkerRunRetracted,
})

#: public type -> stored domain event type name (what the feed reads from the log)
DOMAIN_TYPES: dict[str, str] = {t.public_type: cls.__name__ for cls, t in TRANSLATORS.items()}
PUBLIC_TYPES: tuple[str, ...] = tuple(sorted(DOMAIN_TYPES))
#: stored type name -> public type name (known without decoding the event)
PUBLIC_TYPE_OF: dict[str, str] = {domain: public for public, domain in DOMAIN_TYPES.items()}
#: the synthetic event a subscription's "send a test event" delivers
TEST_EVENT_TYPE = "webhook.test"


def domain_types(public_types: list[str] | None) -> list[str]:
    """Public type names -> the domain event types to read (all exposed types when empty)."""
    return [DOMAIN_TYPES[t] for t in public_types] if public_types else list(DOMAIN_TYPES.values())


def translate(event: StoredEvent) -> dict[str, Any] | None:
    """The public integration event for a stored event, or None when it is not exposed."""
    if event.event_type not in _EXPOSED_NAMES:  # unexposed (or unknown) types are not decoded
        return None
    # Decoded and upcast like every reader's: an old stored shape yields today's event.
    envelope = recorded(event)
    translator = TRANSLATORS[type(envelope.event)]
    return {
        "id": envelope.event_id,
        "type": translator.public_type,
        "schema_version": SCHEMA_VERSION,
        "position": envelope.position,
        "occurred_at": envelope.occurred_at.isoformat(),
        "recorded_at": envelope.recorded_at.isoformat(),
        "actor": {"type": envelope.actor_type, "id": envelope.actor_id},
        "correlation_id": envelope.correlation_id,
        "data": translator.data(envelope.event),
    }


_EXPOSED_NAMES = frozenset(DOMAIN_TYPES.values())
