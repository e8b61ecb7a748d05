"""The `catalog` projection: users, worker types, workers and access, versions,
configurations, models. Serves ListWorkers (available to a user, by type, by name),
ListWorkerTypes, ListWorkerVersions and the details a run shows."""

from __future__ import annotations

from domain import events as ev
from projections.envelope import Envelope
from projections.ops import Op, Projectors, Update, Upsert


def on_user_registered(e: Envelope[ev.UserRegistered]) -> list[Op]:
    u = e.event
    return [Upsert("rm_users", {"user_id": u.user_id}, {
        "username": u.username, "email": u.email, "is_admin": u.is_admin, "created_at": e.occurred_at,
    })]


def on_worker_type_created(e: Envelope[ev.WorkerTypeCreated]) -> list[Op]:
    t = e.event
    return [Upsert("rm_worker_types", {"slug": t.slug}, {
        "type_id": t.type_id, "display_name": t.display_name, "created_position": e.position,
    })]


def on_worker_created(e: Envelope[ev.WorkerCreated]) -> list[Op]:
    w = e.event
    return [Upsert("rm_workers", {"worker_id": w.worker_id}, {
        "name": w.name, "slug": w.slug, "type": w.type, "description": w.description,
        "repository_url": w.repository_url, "owner_id": w.owner_id, "archived": False,
        "created_at": e.occurred_at, "created_position": e.position,
    })]


def on_worker_updated(e: Envelope[ev.WorkerUpdated]) -> list[Op]:
    return [Update("rm_workers", {"worker_id": e.event.worker_id}, dict(e.event.changes))]


def on_worker_access_granted(e: Envelope[ev.WorkerAccessGranted]) -> list[Op]:
    return [Upsert("rm_worker_access", {"worker_id": e.event.worker_id, "user_id": e.event.user_id}, {})]


def on_worker_version_created(e: Envelope[ev.WorkerVersionCreated]) -> list[Op]:
    v = e.event
    return [Upsert("rm_worker_versions", {"version_id": v.version_id}, {
        "worker_id": v.worker_id, "number": v.number, "configuration": v.configuration,
        "docker_image_iid": v.docker_image_iid, "revision_url": v.revision_url, "gpu_usage": v.gpu_usage,
        "model_usage": v.model_usage, "state": v.state, "tag": v.tag, "branch": v.branch,
        "archived": False, "created_at": e.occurred_at, "created_position": e.position,
    })]


def on_worker_version_updated(e: Envelope[ev.WorkerVersionUpdated]) -> list[Op]:
    return [Update("rm_worker_versions", {"version_id": e.event.version_id}, dict(e.event.changes))]


def on_worker_configuration_created(e: Envelope[ev.WorkerConfigurationCreated]) -> list[Op]:
    c = e.event
    return [Upsert("rm_worker_configurations", {"configuration_id": c.configuration_id}, {
        "worker_id": c.worker_id, "name": c.name, "configuration": c.configuration,
        "secret_keys": c.secret_keys, "archived": False, "created_at": e.occurred_at,
    })]


def on_model_created(e: Envelope[ev.ModelCreated]) -> list[Op]:
    m = e.event
    return [Upsert("rm_models", {"model_id": m.model_id}, {
        "name": m.name, "description": m.description, "owner_id": m.owner_id, "created_at": e.occurred_at,
    })]


def on_model_version_created(e: Envelope[ev.ModelVersionCreated]) -> list[Op]:
    m = e.event
    return [Upsert("rm_model_versions", {"model_version_id": m.model_version_id}, {
        "model_id": m.model_id, "number": m.number, "configuration": m.configuration,
        "tag": m.tag, "state": m.state, "created_at": e.occurred_at,
    })]


PROJECTORS: Projectors = {
    ev.UserRegistered: on_user_registered,
    ev.WorkerTypeCreated: on_worker_type_created,
    ev.WorkerCreated: on_worker_created,
    ev.WorkerUpdated: on_worker_updated,
    ev.WorkerAccessGranted: on_worker_access_granted,
    ev.WorkerVersionCreated: on_worker_version_created,
    ev.WorkerVersionUpdated: on_worker_version_updated,
    ev.WorkerConfigurationCreated: on_worker_configuration_created,
    ev.ModelCreated: on_model_created,
    ev.ModelVersionCreated: on_model_version_created,
}

TABLES = (
    "rm_users", "rm_worker_types", "rm_workers", "rm_worker_access", "rm_worker_versions",
    "rm_worker_configurations", "rm_models", "rm_model_versions",
)
