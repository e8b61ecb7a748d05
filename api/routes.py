"""The route table: the one list that Falcon routes from and the OpenAPI document describes.

Each route names its path (as published: full `/api/v1/...` OpenAPI path), its resource class
and its operations. An operation carries the Arkindex operationId, the query and body
schemas the edge middleware validates with (the same instances the document is built from,
so what is documented is what is enforced), the response schema, and for reads the
projections to wait for (read-your-writes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from marshmallow import Schema

from api import resources as r
from api import schemas as s
from api import system
from projections.queries import CATALOG, USER_RUNS

CATALOG_ONLY = (CATALOG,)
RUNS = (CATALOG, USER_RUNS)


@dataclass(frozen=True)
class Operation:
    method: str
    operation_id: str
    summary: str
    query: Schema = s.empty_query
    body: Schema | None = None
    response: Schema | None = None
    #: the documented success status (CreateWorker also answers 200 for an existing worker)
    status: int = 200
    paginated: bool = False
    #: public operations need no token (the client fetches the schema before it has one)
    public: bool = False
    #: projections a read waits for, up to the caller's last write or X-Min-Event-Position
    reads: tuple[str, ...] = ()
    tag: str = "workers"
    description: str = ""
    #: documented error statuses besides 401 (for authenticated operations) and 400
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    #: extra documented success statuses
    also: tuple[int, ...] = ()


@dataclass(frozen=True)
class Route:
    path: str
    resource: type
    operations: tuple[Operation, ...] = field(default_factory=tuple)

    @property
    def template(self) -> str:
        """The Falcon template: `{id}` path fields are UUIDs; anything else is a 404."""
        return re.sub(r"\{(\w+)\}", r"{\1:uuid}", self.path)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


def _list(operation_id: str, summary: str, response: Schema, query: Schema = s.page_query,
          reads: tuple[str, ...] = CATALOG_ONLY, tag: str = "workers", **kwargs: object) -> Operation:
    return Operation(
        "GET", operation_id, summary, query=query, response=response, paginated=True, reads=reads, tag=tag,
        **kwargs,  # type: ignore[arg-type]
    )


def _get(operation_id: str, summary: str, response: Schema, reads: tuple[str, ...] = CATALOG_ONLY,
         tag: str = "workers", **kwargs: object) -> Operation:
    return Operation(
        "GET", operation_id, summary, query=s.read_query, response=response, reads=reads, tag=tag,
        errors=(404,), **kwargs,  # type: ignore[arg-type]
    )


ROUTES: tuple[Route, ...] = (
    # --- workers and worker types
    Route("/api/v1/workers/", r.WorkersResource, (
        _list("ListWorkers", "List the workers available to you", s.worker_schema, query=s.list_workers_query,
              description="Your own workers, those shared with you, or every worker for an admin. "
                          "Archived workers are hidden unless `archived` is set."),
        Operation("POST", "CreateWorker", "Create a worker, or get the existing one with this slug",
                  body=s.create_worker_body, response=s.worker_schema, status=201, also=(200,),
                  description="The type is free text: a new worker type is created on the fly. "
                              "201 for a new worker, 200 for an existing worker with the same slug "
                              "that you may use."),
    )),
    Route("/api/v1/workers/types/", r.WorkerTypesResource, (
        _list("ListWorkerTypes", "List worker types", s.worker_type_schema),
    )),
    Route("/api/v1/workers/{id}/", r.WorkerResource, (
        _get("RetrieveWorker", "Retrieve a worker", s.worker_schema),
        Operation("PATCH", "PartialUpdateWorker",
                  "Update a worker's name, type, description or archived flag",
                  body=s.update_worker_body, response=s.worker_schema, errors=(403, 404)),
    )),
    # --- worker versions
    Route("/api/v1/workers/{id}/versions/", r.WorkerVersionsResource, (
        _list("ListWorkerVersions", "List the versions of a worker, newest first", s.worker_version_schema,
              query=s.list_worker_versions_query, errors=(404,)),
        Operation("POST", "CreateWorkerVersion", "Create a version of a worker",
                  body=s.create_worker_version_body, response=s.worker_version_schema, status=201,
                  errors=(403, 404, 409),
                  description="Every field is optional; the version number is assigned (1, 2, 3, ...). "
                              "A duplicate `revision_url` or `tag` answers 409 with `existing_id`."),
    )),
    Route("/api/v1/workers/versions/{id}/", r.WorkerVersionResource, (
        _get("RetrieveWorkerVersion", "Retrieve a worker version", s.worker_version_schema),
        Operation("PATCH", "PartialUpdateWorkerVersion", "Update a worker version",
                  body=s.update_worker_version_body, response=s.worker_version_schema,
                  errors=(403, 404, 409)),
    )),
    # --- worker configurations
    Route("/api/v1/workers/{id}/configurations/", r.WorkerConfigurationsResource, (
        _list("ListWorkerConfigurations", "List the named configurations of a worker",
              s.worker_configuration_schema, errors=(404,)),
        Operation("POST", "CreateWorkerConfiguration", "Create a named configuration of a worker",
                  body=s.create_worker_configuration_body, response=s.worker_configuration_schema, status=201,
                  errors=(404,)),
    )),
    Route("/api/v1/workers/configurations/{id}/", r.WorkerConfigurationResource, (
        _get("RetrieveWorkerConfiguration", "Retrieve a worker configuration", s.worker_configuration_schema),
    )),
    # --- models
    Route("/api/v1/models/", r.ModelsResource, (
        _list("ListModels", "List your models", s.model_schema, tag="models"),
        Operation("POST", "CreateModel", "Create a model", body=s.create_model_body, response=s.model_schema,
                  status=201, tag="models"),
    )),
    Route("/api/v1/model/{id}/", r.ModelResource, (
        _get("RetrieveModel", "Retrieve a model", s.model_schema, tag="models"),
    )),
    Route("/api/v1/model/{id}/versions/", r.ModelVersionsResource, (
        _list("ListModelVersions", "List the versions of a model, newest first", s.model_version_schema,
              tag="models", errors=(404,)),
        Operation("POST", "CreateModelVersion", "Create a version of a model",
                  body=s.create_model_version_body,
                  response=s.model_version_schema, status=201, tag="models", errors=(404,)),
    )),
    Route("/api/v1/modelversion/{id}/", r.ModelVersionResource, (
        _get("RetrieveModelVersion", "Retrieve a model version", s.model_version_schema, tag="models"),
    )),
    # --- user worker runs
    Route("/api/v1/process/workers/", r.UserWorkerRunsResource, (
        _list("ListUserWorkerRuns", "List your user worker runs, newest first", s.worker_run_schema,
              reads=RUNS, tag="worker runs"),
        Operation("POST", "CreateUserWorkerRun", "Create a user worker run on your local process",
                  body=s.create_user_worker_run_body, response=s.worker_run_schema, status=201,
                  tag="worker runs",
                  description="One user worker run per worker version: a second one answers 400 "
                              "(`validation_error`, code `unique` on `worker_version_id`) with the "
                              "existing run's id as `existing_id`."),
    )),
    Route("/api/v1/process/workers/{id}/", r.WorkerRunResource, (
        _get("RetrieveWorkerRun", "Retrieve a worker run", s.worker_run_schema, reads=RUNS,
             tag="worker runs"),
    )),
    Route("/api/v1/workers/runs/{id}/configuration/", r.WorkerRunConfigurationResource, (
        _get("RetrieveWorkerRunConfiguration", "Retrieve the configuration of a worker run",
             s.worker_run_configuration_schema, reads=RUNS, tag="worker runs"),
    )),
    # --- users
    Route("/api/v1/user/", r.UserResource, (
        Operation("GET", "RetrieveUser", "Retrieve the authenticated user", response=s.user_schema,
                  tag="users"),
    )),
    # --- public: the document itself, its docs, health
    Route("/api/v1/openapi/", system.SchemaResource, (
        Operation("GET", "RetrieveOpenAPISchema", "This OpenAPI document (JSON)", query=s.schema_query,
                  public=True, tag="system"),
    )),
    Route("/api/v1/docs/", system.DocsResource, (
        Operation("GET", "RetrieveAPIDocs", "Interactive documentation (Swagger UI)", public=True,
                  tag="system",
                  content_type="text/html"),
    )),
    Route("/livez", system.LivezResource, (
        Operation("GET", "RetrieveLiveness", "Liveness probe", public=True, tag="system"),
    )),
    Route("/readyz", system.ReadyzResource, (
        Operation("GET", "RetrieveReadiness", "Readiness probe: database and projection lag", public=True,
                  tag="system", errors=(503,)),
    )),
)
