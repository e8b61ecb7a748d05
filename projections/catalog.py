"""The `catalog` projection: users, worker types, workers and access, versions,
configurations, models. Serves ListWorkers (available to a user, by type, by name),
ListWorkerTypes, ListWorkerVersions and the details a run shows."""

from __future__ import annotations

from domain import events as ev
from projections.envelope import Envelope
from projections.ops import Op, Projectors, Update, Upsert, copy_row


def on_user_registered(e: Envelope[ev.UserRegistered]) -> list[Op]:
    return [copy_row("rm_users", e.event, "user_id", ("username", "email", "is_admin"),
                     created_at=e.occurred_at)]


def on_worker_type_created(e: Envelope[ev.WorkerTypeCreated]) -> list[Op]:
    return [copy_row("rm_worker_types", e.event, "slug", ("type_id", "display_name"),
                     created_position=e.position)]


def on_worker_created(e: Envelope[ev.WorkerCreated]) -> list[Op]:
    return [copy_row(
        "rm_workers", e.event, "worker_id",
        ("name", "slug", "type", "description", "repository_url", "owner_id"),
        archived=False, created_at=e.occurred_at, created_position=e.position,
    )]


def on_worker_updated(e: Envelope[ev.WorkerUpdated]) -> list[Op]:
    return [Update("rm_workers", {"worker_id": e.event.worker_id}, dict(e.event.changes))]


def on_worker_access_granted(e: Envelope[ev.WorkerAccessGranted]) -> list[Op]:
    return [Upsert("rm_worker_access", {"worker_id": e.event.worker_id, "user_id": e.event.user_id}, {})]


def on_worker_version_created(e: Envelope[ev.WorkerVersionCreated]) -> list[Op]:
    return [copy_row(
        "rm_worker_versions", e.event, "version_id",
        ("worker_id", "number", "configuration", "docker_image_iid", "revision_url", "gpu_usage",
         "model_usage", "state", "tag", "branch"),
        archived=False, created_at=e.occurred_at, created_position=e.position,
    )]


def on_worker_version_updated(e: Envelope[ev.WorkerVersionUpdated]) -> list[Op]:
    return [Update("rm_worker_versions", {"version_id": e.event.version_id}, dict(e.event.changes))]


def on_worker_configuration_created(e: Envelope[ev.WorkerConfigurationCreated]) -> list[Op]:
    return [copy_row(
        "rm_worker_configurations", e.event, "configuration_id",
        ("worker_id", "name", "configuration", "secret_keys"), archived=False, created_at=e.occurred_at,
    )]


def on_model_created(e: Envelope[ev.ModelCreated]) -> list[Op]:
    return [copy_row("rm_models", e.event, "model_id", ("name", "description", "owner_id"),
                     created_at=e.occurred_at)]


def on_model_version_created(e: Envelope[ev.ModelVersionCreated]) -> list[Op]:
    return [copy_row(
        "rm_model_versions", e.event, "model_version_id",
        ("model_id", "number", "configuration", "tag", "state"), created_at=e.occurred_at,
    )]


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
