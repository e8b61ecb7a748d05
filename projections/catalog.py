"""The `catalog` projection: users, worker types, workers and access, versions,
configurations, models. Serves ListWorkers (available to a user, by type, by name),
ListWorkerTypes, ListWorkerVersions and the details a run shows."""

from __future__ import annotations

from eventstore import StoredEvent
from projections.ops import Op, Update, Upsert


def on_user_registered(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_users", {"user_id": p["user_id"]}, {
        "username": p["username"], "email": p["email"], "is_admin": p["is_admin"],
        "created_at": e.occurred_at,
    })]


def on_worker_type_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_worker_types", {"slug": p["slug"]}, {
        "type_id": p["type_id"], "display_name": p["display_name"], "created_position": e.global_position,
    })]


def on_worker_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_workers", {"worker_id": p["worker_id"]}, {
        "name": p["name"], "slug": p["slug"], "type": p["type"], "description": p["description"],
        "repository_url": p["repository_url"], "owner_id": p["owner_id"], "archived": False,
        "created_at": e.occurred_at, "created_position": e.global_position,
    })]


def on_worker_updated(e: StoredEvent) -> list[Op]:
    return [Update("rm_workers", {"worker_id": e.payload["worker_id"]}, dict(e.payload["changes"]))]


def on_worker_access_granted(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_worker_access", {"worker_id": p["worker_id"], "user_id": p["user_id"]}, {})]


def on_worker_version_created(e: StoredEvent) -> list[Op]:
    p = dict(e.payload)
    version_id = p.pop("version_id")
    return [Upsert("rm_worker_versions", {"version_id": version_id}, {
        **p, "archived": False, "created_at": e.occurred_at, "created_position": e.global_position,
    })]


def on_worker_version_updated(e: StoredEvent) -> list[Op]:
    return [Update("rm_worker_versions", {"version_id": e.payload["version_id"]}, dict(e.payload["changes"]))]


def on_worker_configuration_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_worker_configurations", {"configuration_id": p["configuration_id"]}, {
        "worker_id": p["worker_id"], "name": p["name"], "configuration": p["configuration"],
        "secret_keys": p["secret_keys"], "archived": False, "created_at": e.occurred_at,
    })]


def on_model_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_models", {"model_id": p["model_id"]}, {
        "name": p["name"], "description": p["description"], "owner_id": p["owner_id"],
        "created_at": e.occurred_at,
    })]


def on_model_version_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_model_versions", {"model_version_id": p["model_version_id"]}, {
        "model_id": p["model_id"], "number": p["number"], "configuration": p["configuration"],
        "tag": p["tag"], "state": p["state"], "created_at": e.occurred_at,
    })]


PROJECTORS = {
    "UserRegistered": on_user_registered,
    "WorkerTypeCreated": on_worker_type_created,
    "WorkerCreated": on_worker_created,
    "WorkerUpdated": on_worker_updated,
    "WorkerAccessGranted": on_worker_access_granted,
    "WorkerVersionCreated": on_worker_version_created,
    "WorkerVersionUpdated": on_worker_version_updated,
    "WorkerConfigurationCreated": on_worker_configuration_created,
    "ModelCreated": on_model_created,
    "ModelVersionCreated": on_model_version_created,
}

TABLES = (
    "rm_users", "rm_worker_types", "rm_workers", "rm_worker_access", "rm_worker_versions",
    "rm_worker_configurations", "rm_models", "rm_model_versions",
)
