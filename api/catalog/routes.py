"""The catalog's routes: workers, worker types, versions, configurations, models, and the user
worker runs (api/routes.py joins every feature's routes into the table)."""

from __future__ import annotations

from api.catalog import resources as r
from api.catalog import schemas as s
from api.operations import Do, ListOf, One, Served
from api.route_table import Operation, Route, get_op, list_op
from projections import queries as q
from projections.queries import CATALOG, USER_RUNS

RUNS = (CATALOG, USER_RUNS)

# --- the reads behind generic operations (api/operations.py), each shared by its list or get
# and by the commands that answer with the object they wrote
WORKER = One(q.get_worker)
WORKER_VERSION = One(q.get_worker_version)
WORKER_CONFIGURATION = One(q.get_worker_configuration)
MODEL = One(q.get_model)
MODEL_VERSION = One(q.get_model_version)
RUN = One(q.get_user_run, missing=r.RUN_NOT_FOUND)


CATALOG_ROUTES: tuple[Route, ...] = (
    # --- workers and worker types
    Route("/api/v1/workers/", r.WorkersResource, (
        list_op("ListWorkers", "List the workers available to you", s.worker_schema,
                query=s.list_workers_query,
                serve=ListOf(q.list_workers, args=("actor",), filters=("type", "name", "archived")),
                description="Your own workers, those shared with you, or every worker for an admin. "
                            "Archived workers are hidden unless `archived` is set."),
        Operation("POST", "CreateWorker", "Create a worker, or get the existing one with this slug",
                  body=s.create_worker_body, response=s.worker_schema, status=201, also=(200,),
                  description="The type is free text: a new worker type is created on the fly. "
                              "201 for a new worker, 200 for an existing worker with the same slug "
                              "that you may use."),
    )),
    Route("/api/v1/workers/types/", Served, (
        list_op("ListWorkerTypes", "List worker types", s.worker_type_schema,
                serve=ListOf(q.list_worker_types, args=())),
    )),
    Route("/api/v1/workers/{id}/", Served, (
        get_op("RetrieveWorker", "Retrieve a worker", s.worker_schema, serve=WORKER),
        Operation("PATCH", "PartialUpdateWorker",
                  "Update a worker's name, type, description or archived flag",
                  body=s.update_worker_body, response=s.worker_schema, errors=(403, 404),
                  serve=Do(r.update_worker, then=WORKER)),
    )),
    # --- worker versions
    Route("/api/v1/workers/{id}/versions/", Served, (
        list_op("ListWorkerVersions", "List the versions of a worker, newest first", s.worker_version_schema,
                query=s.list_worker_versions_query, errors=(404,),
                serve=ListOf(q.list_worker_versions, filters=("state", "archived"))),
        Operation("POST", "CreateWorkerVersion", "Create a version of a worker",
                  body=s.create_worker_version_body, response=s.worker_version_schema, status=201,
                  errors=(403, 404, 409),
                  description="Every field is optional; the version number is assigned (1, 2, 3, ...). "
                              "A duplicate `revision_url` or `tag` answers 409 with `existing_id`.",
                  serve=Do(r.create_worker_version, created="version_id", then=WORKER_VERSION)),
    )),
    Route("/api/v1/workers/versions/{id}/", Served, (
        get_op("RetrieveWorkerVersion", "Retrieve a worker version", s.worker_version_schema,
               serve=WORKER_VERSION),
        Operation("PATCH", "PartialUpdateWorkerVersion", "Update a worker version",
                  body=s.update_worker_version_body, response=s.worker_version_schema,
                  errors=(403, 404, 409), serve=Do(r.update_worker_version, then=WORKER_VERSION)),
    )),
    # --- worker configurations
    Route("/api/v1/workers/{id}/configurations/", Served, (
        list_op("ListWorkerConfigurations", "List the named configurations of a worker",
                s.worker_configuration_schema, errors=(404,),
                serve=ListOf(q.list_worker_configurations)),
        Operation("POST", "CreateWorkerConfiguration", "Create a named configuration of a worker",
                  body=s.create_worker_configuration_body, response=s.worker_configuration_schema, status=201,
                  errors=(404,),
                  serve=Do(r.create_worker_configuration, created="configuration_id",
                           then=WORKER_CONFIGURATION)),
    )),
    Route("/api/v1/workers/configurations/{id}/", Served, (
        get_op("RetrieveWorkerConfiguration", "Retrieve a worker configuration",
               s.worker_configuration_schema,
               serve=WORKER_CONFIGURATION),
    )),
    # --- models
    Route("/api/v1/models/", Served, (
        list_op("ListModels", "List your models", s.model_schema, tag="models",
                serve=ListOf(q.list_models, args=("actor",))),
        Operation("POST", "CreateModel", "Create a model", body=s.create_model_body, response=s.model_schema,
                  status=201, tag="models", serve=Do(r.create_model, created="model_id", then=MODEL)),
    )),
    Route("/api/v1/model/{id}/", Served, (
        get_op("RetrieveModel", "Retrieve a model", s.model_schema, tag="models", serve=MODEL),
    )),
    Route("/api/v1/model/{id}/versions/", Served, (
        list_op("ListModelVersions", "List the versions of a model, newest first", s.model_version_schema,
                tag="models", errors=(404,),
                serve=ListOf(q.list_model_versions)),
        Operation("POST", "CreateModelVersion", "Create a version of a model",
                  body=s.create_model_version_body,
                  response=s.model_version_schema, status=201, tag="models", errors=(404,),
                  serve=Do(r.create_model_version, created="model_version_id", then=MODEL_VERSION)),
    )),
    Route("/api/v1/modelversion/{id}/", Served, (
        get_op("RetrieveModelVersion", "Retrieve a model version", s.model_version_schema, tag="models",
               serve=MODEL_VERSION),
    )),
    # --- user worker runs
    Route("/api/v1/process/workers/", Served, (
        # The caller's own runs, admins included: these are *user* worker runs.
        list_op("ListUserWorkerRuns", "List your user worker runs, newest first", s.worker_run_schema,
                reads=RUNS, tag="worker runs",
                serve=ListOf(q.list_user_runs, args=("user_id",))),
        Operation("POST", "CreateUserWorkerRun", "Create a user worker run on your local process",
                  body=s.create_user_worker_run_body, response=s.worker_run_schema, status=201,
                  tag="worker runs",
                  description="One user worker run per worker version: a second one answers 400 "
                              "(`validation_error`, code `unique` on `worker_version_id`) with the "
                              "existing run's id as `existing_id`.",
                  serve=Do(r.create_user_run, created="run_id", then=RUN, waits=RUNS)),
    )),
    # issue 14: the one-step run
    Route("/api/v1/process/workers/quick/", r.QuickUserWorkerRunResource, (
        Operation("POST", "CreateQuickUserWorkerRun",
                  "Get or create a worker and a version of it, and your run on that version, in one step",
                  body=s.quick_user_worker_run_body, response=s.worker_run_schema, status=201, also=(200,),
                  tag="worker runs", errors=(403,),
                  description="One transaction: the worker (by slug, as CreateWorker), the version (the one "
                              "of `revision_url`, else the newest usable one with `docker_image_iid` if "
                              "given; created when there is none) and your run on it. 201 for a new run, "
                              "200 with the run the version already had. Using another user's worker "
                              "without a version answers 403: only its owner may create one."),
    )),
    Route("/api/v1/process/workers/{id}/", Served, (
        get_op("RetrieveWorkerRun", "Retrieve a worker run", s.worker_run_schema, reads=RUNS,
               tag="worker runs", serve=RUN),
    )),
    Route("/api/v1/workers/runs/{id}/configuration/", Served, (
        get_op("RetrieveWorkerRunConfiguration", "Retrieve the configuration of a worker run",
               s.worker_run_configuration_schema, reads=RUNS, tag="worker runs",
               serve=One(q.get_user_run, missing=r.RUN_NOT_FOUND)),
    )),
)
