"""Falcon resources of the catalog and the runs, and the command builders of their generic
operations (api/operations.py serves those from their rows in api/catalog/routes.py; the resources
here answer what behaves differently: get-or-create, the caller as authenticated). Their
base is api/base_resources.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import falcon

from api.base_resources import CommandResource, actor_of, same
from api.catalog import schemas as s
from api.errors import invalid
from commands import messages as m
from domain.actor import slugify
from projections import queries as q
from projections.queries import CATALOG, USER_RUNS

if TYPE_CHECKING:  # api/operations.py builds on the resources below
    from api.operations import Call


def _ids(body: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """UUID fields of a loaded body -> strings (the domain's ids), None kept."""
    return {name: (str(body[name]) if body.get(name) is not None else None) for name in names}


# --- workers ---------------------------------------------------------------------------------


class WorkersResource(CommandResource):
    """CreateWorker is get-or-create (ListWorkers is generic: api/catalog/routes.py)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        result = self.commands.run(req, resp, m.CreateWorker(
            name=body["name"], slug=body.get("slug") or _slug_from(body["name"]), type=body["type"],
            description=body.get("description", ""), repository_url=body.get("repository_url"),
        ))
        worker_id = result.data["worker_id"]
        # Get-or-create (the CLI relies on it): 201 when created, 200 for the existing worker.
        status = 201 if result.data.get("created") else 200
        self._written(
            resp, result, status, worker_id, lambda conn: q.get_worker(conn, actor_of(req), worker_id),
            same, s.worker_schema,
        )


def _slug_from(name: str) -> str:
    """CreateWorker without a slug: derive it from the name (Arkindex requires one; a UI
    or script that omits it still gets a stable get-or-create key)."""
    slug = slugify(name)[:100].strip("-")
    if not slug:
        raise invalid(
            ["slug"], "This name has no letter or digit to derive a slug from: give a slug.", "required",
        )
    return slug


# --- command builders: request (validated body, path) -> command, for the generic responders


def update_worker(call: Call) -> m.UpdateWorker:
    return m.UpdateWorker(worker_id=call.id, changes=dict(call.body))


def create_worker_version(call: Call) -> m.CreateWorkerVersion:
    return m.CreateWorkerVersion(worker_id=call.id, fields=dict(call.body))


def update_worker_version(call: Call) -> m.UpdateWorkerVersion:
    return m.UpdateWorkerVersion(version_id=call.id, changes=dict(call.body))


def create_worker_configuration(call: Call) -> m.CreateWorkerConfiguration:
    body = call.body
    return m.CreateWorkerConfiguration(
        worker_id=call.id, name=body["name"], configuration=body["configuration"],
        secret_keys=list(body.get("secret_keys", [])),
    )


def create_model(call: Call) -> m.CreateModel:
    return m.CreateModel(name=call.body["name"], description=call.body.get("description", ""))


def create_model_version(call: Call) -> m.CreateModelVersion:
    body = call.body
    return m.CreateModelVersion(
        model_id=call.id, configuration=body.get("configuration", {}), tag=body.get("tag"),
    )


def create_user_run(call: Call) -> m.CreateUserRun:
    return m.CreateUserRun(
        **_ids(call.body, "worker_version_id", "configuration_id", "model_version_id"),
        summary=call.body.get("summary") or None,
    )


# --- user worker runs ------------------------------------------------------------------------


class QuickUserWorkerRunResource(CommandResource):
    """Issue 14, the one-step run: worker, version and run in one command (QuickUserRun)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        result = self.commands.run(req, resp, m.QuickUserRun(
            name=body["name"], type=body.get("type") or "worker", slug=body.get("slug"),
            docker_image_iid=body.get("docker_image_iid") or None,
            revision_url=body.get("revision_url") or None, repository_url=body.get("repository_url") or None,
        ))
        run_id = result.data["run_id"]
        # 201 for a new run, 200 when the version already had the caller's run (a repeat).
        self._written(
            resp, result, 201 if result.data["run_created"] else 200, run_id,
            lambda conn: q.get_user_run(conn, actor_of(req), run_id),
            same, s.worker_run_schema, names=(CATALOG, USER_RUNS),
        )


#: base-worker prints this when its start-up (RetrieveWorkerRun) fails: say why it may happen
RUN_NOT_FOUND = (
    "No such worker run for this API token. User worker runs are personal: only the user who "
    "created the run may use it (check ARKINDEX_API_TOKEN and ARKINDEX_WORKER_RUN_ID)."
)
