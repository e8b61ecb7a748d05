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
from typing import Any

from marshmallow import Schema

from api import base_schemas as b
from api import document_presenters as dp  # issue 5: documents
from api import document_resources as dr  # issue 5: documents
from api import document_schemas as ds  # issue 5: documents
from api import element_tree_resources as tr  # issue 10 B: element tree
from api import element_tree_schemas as ts  # issue 10 B: element tree
from api import entity_resources as er  # issue 10 B: transcription entities
from api import entity_schemas as es  # issue 10 B: transcription entities
from api import image_resources as imr  # issue 10: images
from api import image_schemas as ims  # issue 10: images
from api import integration_resources as ir  # issue 7: integrations
from api import integration_schemas as xs  # issue 7: integrations
from api import login_resources as lr  # issue 10 B: password sign-in
from api import resources as r
from api import retraction_resources as rr  # issue 14: retract a run
from api import schemas as s
from api import system
from api.operations import Do, ListOf, One, Serve, Served
from api.provenance import object_provenance
from projections import corpus_run_queries as cq  # issue 10: runs that produced data in a corpus
from projections import document_queries as dq  # issue 5: documents
from projections import entity_queries as eq  # issue 10 B: transcription entities
from projections import queries as q
from projections.document_queries import DOCUMENTS  # issue 5: documents
from projections.queries import CATALOG, USER_RUNS

CATALOG_ONLY = (CATALOG,)
RUNS = (CATALOG, USER_RUNS)
DOCS = (CATALOG, USER_RUNS, DOCUMENTS)  # issue 5: documents show their signing run

# --- the reads behind generic operations (api/operations.py), each shared by its list or get
# and by the commands that answer with the object they wrote
WORKER = One(q.get_worker)
WORKER_VERSION = One(q.get_worker_version)
WORKER_CONFIGURATION = One(q.get_worker_configuration)
MODEL = One(q.get_model)
MODEL_VERSION = One(q.get_model_version)
RUN = One(q.get_user_run, missing=r.RUN_NOT_FOUND)
CORPUS = One(dr.corpus)
ELEMENT = One(dr.element)
TRANSCRIPTION = One(dq.get_transcription)
IMAGE = One(imr.image, args=("id",), missing="No such image.")
#: what a document write waits for before reading its object back
WRITTEN_DOCS = (DOCUMENTS,)


@dataclass(frozen=True)
class Operation:
    method: str
    operation_id: str
    summary: str
    query: Schema = b.empty_query
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
    #: other content types the success answer may take (e.g. `text/csv` with `format=csv`)
    alternate_content_types: tuple[str, ...] = ()
    #: the query or command builder a generic responder serves it with (api/operations.py);
    #: None: the route's resource answers it by hand
    serve: Serve | None = None

    @property
    def cursor_paginated(self) -> bool:
        """Cursor style (arkindex-api.md §3): the client picks it when `cursor` is declared."""
        return self.paginated and "cursor" in self.query.fields


@dataclass(frozen=True)
class Route:
    path: str
    resource: type
    operations: tuple[Operation, ...] = field(default_factory=tuple)
    #: the path with Falcon's field names, when the published names clash with another route's
    #: at the same level (Falcon wants one name per level: `/corpus/{id}/` and
    #: `/corpus/{corpus}/elements/` cannot both be routed as published)
    falcon_path: str | None = None

    @property
    def template(self) -> str:
        """The Falcon template: `{id}` path fields are UUIDs; anything else is a 404."""
        return re.sub(r"\{(\w+)\}", r"{\1:uuid}", self.falcon_path or self.path)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


def _list(operation_id: str, summary: str, response: Schema, query: Schema = b.page_query,
          reads: tuple[str, ...] = CATALOG_ONLY, tag: str = "workers", **kwargs: Any) -> Operation:
    return Operation(
        "GET", operation_id, summary, query=query, response=response, paginated=True, reads=reads, tag=tag,
        **kwargs,
    )


def _get(operation_id: str, summary: str, response: Schema, reads: tuple[str, ...] = CATALOG_ONLY,
         tag: str = "workers", **kwargs: Any) -> Operation:
    return Operation(
        "GET", operation_id, summary, query=b.read_query, response=response, reads=reads, tag=tag,
        errors=(404,), **kwargs,
    )


ROUTES: tuple[Route, ...] = (
    # --- workers and worker types
    Route("/api/v1/workers/", r.WorkersResource, (
        _list("ListWorkers", "List the workers available to you", s.worker_schema, query=s.list_workers_query,
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
        _list("ListWorkerTypes", "List worker types", s.worker_type_schema,
              serve=ListOf(q.list_worker_types, args=())),
    )),
    Route("/api/v1/workers/{id}/", Served, (
        _get("RetrieveWorker", "Retrieve a worker", s.worker_schema, serve=WORKER),
        Operation("PATCH", "PartialUpdateWorker",
                  "Update a worker's name, type, description or archived flag",
                  body=s.update_worker_body, response=s.worker_schema, errors=(403, 404),
                  serve=Do(r.update_worker, then=WORKER)),
    )),
    # --- worker versions
    Route("/api/v1/workers/{id}/versions/", Served, (
        _list("ListWorkerVersions", "List the versions of a worker, newest first", s.worker_version_schema,
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
        _get("RetrieveWorkerVersion", "Retrieve a worker version", s.worker_version_schema,
             serve=WORKER_VERSION),
        Operation("PATCH", "PartialUpdateWorkerVersion", "Update a worker version",
                  body=s.update_worker_version_body, response=s.worker_version_schema,
                  errors=(403, 404, 409), serve=Do(r.update_worker_version, then=WORKER_VERSION)),
    )),
    # --- worker configurations
    Route("/api/v1/workers/{id}/configurations/", Served, (
        _list("ListWorkerConfigurations", "List the named configurations of a worker",
              s.worker_configuration_schema, errors=(404,),
              serve=ListOf(q.list_worker_configurations)),
        Operation("POST", "CreateWorkerConfiguration", "Create a named configuration of a worker",
                  body=s.create_worker_configuration_body, response=s.worker_configuration_schema, status=201,
                  errors=(404,),
                  serve=Do(r.create_worker_configuration, created="configuration_id",
                           then=WORKER_CONFIGURATION)),
    )),
    Route("/api/v1/workers/configurations/{id}/", Served, (
        _get("RetrieveWorkerConfiguration", "Retrieve a worker configuration", s.worker_configuration_schema,
             serve=WORKER_CONFIGURATION),
    )),
    # --- models
    Route("/api/v1/models/", Served, (
        _list("ListModels", "List your models", s.model_schema, tag="models",
              serve=ListOf(q.list_models, args=("actor",))),
        Operation("POST", "CreateModel", "Create a model", body=s.create_model_body, response=s.model_schema,
                  status=201, tag="models", serve=Do(r.create_model, created="model_id", then=MODEL)),
    )),
    Route("/api/v1/model/{id}/", Served, (
        _get("RetrieveModel", "Retrieve a model", s.model_schema, tag="models", serve=MODEL),
    )),
    Route("/api/v1/model/{id}/versions/", Served, (
        _list("ListModelVersions", "List the versions of a model, newest first", s.model_version_schema,
              tag="models", errors=(404,),
              serve=ListOf(q.list_model_versions)),
        Operation("POST", "CreateModelVersion", "Create a version of a model",
                  body=s.create_model_version_body,
                  response=s.model_version_schema, status=201, tag="models", errors=(404,),
                  serve=Do(r.create_model_version, created="model_version_id", then=MODEL_VERSION)),
    )),
    Route("/api/v1/modelversion/{id}/", Served, (
        _get("RetrieveModelVersion", "Retrieve a model version", s.model_version_schema, tag="models",
             serve=MODEL_VERSION),
    )),
    # --- user worker runs
    Route("/api/v1/process/workers/", Served, (
        # The caller's own runs, admins included: these are *user* worker runs.
        _list("ListUserWorkerRuns", "List your user worker runs, newest first", s.worker_run_schema,
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
        _get("RetrieveWorkerRun", "Retrieve a worker run", s.worker_run_schema, reads=RUNS,
             tag="worker runs", serve=RUN),
    )),
    Route("/api/v1/workers/runs/{id}/configuration/", Served, (
        _get("RetrieveWorkerRunConfiguration", "Retrieve the configuration of a worker run",
             s.worker_run_configuration_schema, reads=RUNS, tag="worker runs",
             serve=One(q.get_user_run, missing=r.RUN_NOT_FOUND)),
    )),
    # --- documents (issue 5): what workers publish, each object signed by a worker run or a user.
    # Paths and operationIds as arkindex-base-worker 0.6 calls them.
    Route("/api/v1/corpus/", Served, (
        Operation("POST", "CreateCorpus", "Create a corpus (private to you)", body=ds.create_corpus_body,
                  response=ds.corpus_schema, status=201, tag="documents",
                  serve=Do(dr.create_corpus, created="corpus_id", then=CORPUS, waits=WRITTEN_DOCS)),
    )),
    Route("/api/v1/corpus/{id}/", Served, (
        _get("RetrieveCorpus", "Retrieve a corpus with its element types", ds.corpus_schema, reads=DOCS,
             tag="documents", serve=CORPUS),
    )),
    Route("/api/v1/corpus/{id}/classes/", Served, (
        _list("ListCorpusMLClasses", "List the ML classes of a corpus, by name", ds.ml_class_schema,
              query=ds.list_corpus_ml_classes_query, reads=DOCS, tag="documents", errors=(404,),
              serve=ListOf(dq.list_ml_classes, filters=("search",), present=dp.ml_class)),
        Operation("POST", "CreateMLClass", "Create an ML class in a corpus", body=ds.create_ml_class_body,
                  response=ds.ml_class_schema, status=201, tag="documents", errors=(404,),
                  description="A duplicate name answers 400 (code `unique`) with `existing_id`.",
                  serve=Do(dr.create_ml_class, answer=dr.created_ml_class)),
    )),
    Route("/api/v1/elements/type/", Served, (
        Operation("POST", "CreateElementType", "Create an element type in a corpus",
                  body=ds.create_element_type_body, response=ds.element_type_schema, status=201,
                  tag="documents", description="A duplicate slug answers 400 (code `unique`).",
                  serve=Do(dr.create_element_type, created="type_id", waits=WRITTEN_DOCS,
                           then=One(dq.get_element_type))),
    )),
    Route("/api/v1/elements/create/", Served, (
        Operation("POST", "CreateElement", "Create an element, optionally signed by a worker run",
                  body=ds.create_element_body, response=ds.element_schema, status=201, tag="documents",
                  errors=(403,),
                  serve=Do(dr.create_element, created="element_id", then=ELEMENT, waits=WRITTEN_DOCS)),
    )),
    Route("/api/v1/element/{id}/", Served, (
        _get("RetrieveElement", "Retrieve an element with its classifications and creator",
             ds.element_schema, reads=DOCS, tag="documents", serve=ELEMENT),
        # issue 10: PartialUpdateElement (api/image_resources.py)
        Operation("PATCH", "PartialUpdateElement",
                  "Change an element's type, name, zone (image, polygon), confidence or orientation",
                  body=ims.update_element_body, response=ds.element_schema, tag="documents", errors=(404,),
                  serve=Do(imr.update_element, then=ELEMENT, waits=WRITTEN_DOCS)),
    )),
    # --- element tree (issue 10 B): links and listings, as base-worker and the CLI call them
    Route("/api/v1/corpus/{corpus}/elements/", Served, (
        _list("ListElements", "List the elements of a corpus, oldest first", ts.listed_element_schema,
              query=ts.element_list_query, reads=DOCS, tag="documents", errors=(404,),
              description="Filters: `type`, `name` (contains), `folder`, `top_level`, "
                          "`worker_run=<id>|false`, `transcription_worker_run=<id>|false`; "
                          "`with_classes`, `with_metadata`, `with_has_children`, `with_zone` add fields.",
              serve=ListOf(tr.corpus_elements, filters=tr.LISTING)),
    ), falcon_path="/api/v1/corpus/{id}/elements/"),
    Route("/api/v1/elements/{id}/children/", Served, (
        _list("ListElementChildren", "List the children of an element, oldest first",
              ts.listed_element_schema,
              query=ts.related_elements_query, reads=DOCS, tag="documents", errors=(404,),
              description="`recursive`: every descendant, through any parent. Filters as ListElements.",
              serve=ListOf(tr.element_children, filters=("recursive", *tr.LISTING))),
    )),
    Route("/api/v1/elements/{id}/parents/", Served, (
        _list("ListElementParents", "List the parents of an element, oldest first", ts.listed_element_schema,
              query=ts.related_elements_query, reads=DOCS, tag="documents", errors=(404,),
              description="`recursive`: every ancestor. Filters as ListElements.",
              serve=ListOf(tr.element_parents, filters=("recursive", *tr.LISTING))),
    )),
    Route("/api/v1/element/{child}/parent/{parent}/", Served, (
        Operation("POST", "CreateElementParent", "Link an element under another parent (same corpus)",
                  response=ts.element_parent_schema, status=201, tag="documents", errors=(404,),
                  description="A duplicate link answers 400 with `parent: [\"… is already a parent of …\"]` "
                              "beside the standard body (the Arkindex CLI looks for those words); a link "
                              "that would make an element its own ancestor answers 400.",
                  serve=Do(tr.create_element_parent, answer=tr.created_parent)),
    ), falcon_path="/api/v1/element/{id}/parent/{parent}/"),
    Route("/api/v1/element/parent/{id}/", Served, (
        Operation("POST", "CreateElementChildren", "Link many elements under one parent at once",
                  body=ts.create_element_children_body, response=ts.element_children_schema, status=201,
                  tag="documents", errors=(404,),
                  description="All or nothing, in one transaction; same rules as CreateElementParent.",
                  serve=Do(tr.create_element_children, answer=tr.created_children)),
    )),
    Route("/api/v1/element/{id}/transcription/", Served, (
        Operation("POST", "CreateTranscription", "Create a transcription on an element",
                  body=ds.create_transcription_body, response=ds.transcription_schema, status=201,
                  tag="documents", errors=(403, 404),
                  serve=Do(dr.create_transcription, created="transcription_ids", first=True,
                           then=TRANSCRIPTION, waits=WRITTEN_DOCS)),
    )),
    Route("/api/v1/element/{id}/transcriptions/", Served, (
        _list("ListTranscriptions", "List the transcriptions of an element, oldest first",
              ds.transcription_schema, query=ds.list_transcriptions_query, reads=DOCS, tag="documents",
              errors=(404,), description="`worker_run=<id>`: those signed by that run; "
                                         "`worker_run=false`: those created without a run.",
              serve=ListOf(dq.list_transcriptions, filters=("worker_run", "element_type", "recursive"))),
    )),
    Route("/api/v1/transcription/bulk/", Served, (
        Operation("POST", "CreateTranscriptions", "Create many transcriptions on many elements at once",
                  body=ds.create_transcriptions_body, response=ds.create_transcriptions_response, status=201,
                  tag="documents", errors=(403,),
                  description=f"One transaction per request (all or nothing), up to {ds.MAX_BULK} "
                              "transcriptions, all signed by `worker_run_id`.",
                  serve=Do(dr.create_transcriptions, answer=dr.created_transcriptions)),
    )),
    Route("/api/v1/classifications/", Served, (
        Operation("POST", "CreateClassification", "Classify an element with an ML class",
                  body=ds.create_classification_body, response=ds.created_classification_schema, status=201,
                  tag="documents", errors=(403,),
                  description="One classification per element, class and worker run: a duplicate "
                              "answers 400 (code `unique`).",
                  serve=Do(dr.create_classification, answer=dr.created_classification)),
    )),
    Route("/api/v1/classification/bulk/", Served, (
        Operation("POST", "CreateClassifications", "Create many classifications on one element at once",
                  body=ds.create_classifications_body, response=ds.create_classifications_response,
                  status=201, tag="documents", errors=(403,),
                  serve=Do(dr.create_classifications, answer=dr.created_classifications)),
    )),
    Route("/api/v1/element/{id}/metadata/", Served, (
        _list("ListElementMetaData", "List the metadata of an element, by name", ds.element_metadata_schema,
              query=ds.list_element_metadata_query, reads=DOCS, tag="documents", errors=(404,),
              serve=ListOf(dq.list_element_metadata, filters=("load_parents", "worker_run"))),
        Operation("POST", "CreateMetaData", "Add a metadata to an element", body=ds.create_metadata_body,
                  response=ds.metadata_schema, status=201, tag="documents", errors=(403, 404),
                  serve=Do(dr.create_metadata, answer=dr.created_metadata)),
    )),
    Route("/api/v1/element/{id}/metadata/bulk/", Served, (
        Operation("POST", "CreateMetaDataBulk", "Add many metadata to an element at once",
                  body=ds.create_metadata_bulk_body, response=ds.create_metadata_bulk_response, status=201,
                  tag="documents", errors=(403, 404),
                  serve=Do(dr.create_metadata_bulk, answer=dr.created_metadata_bulk)),
    )),
    Route("/api/v1/corpus/{id}/worker-runs/", Served, (
        _list("ListCorpusWorkerRuns", "List the worker runs that produced data in a corpus, newest first",
              s.worker_run_schema, reads=DOCS, tag="worker runs", errors=(404,),
              description="Runs that signed an element of the corpus or anything on one (transcription, "
                          "classification, metadata, entity), for those who may read the corpus.",
              serve=ListOf(cq.list_corpus_runs)),
    )),
    # --- transcription entities (issue 10 B), as base-worker 0.6 calls them
    Route("/api/v1/corpus/{id}/entity-types/", Served, (
        _list("ListCorpusEntityTypes", "List the entity types of a corpus, by name", es.entity_type_schema,
              reads=DOCS, tag="documents", errors=(404,),
              serve=ListOf(eq.list_entity_types)),
    )),
    Route("/api/v1/entity/types/", Served, (
        Operation("POST", "CreateEntityType", "Create an entity type in a corpus",
                  body=es.create_entity_type_body, response=es.entity_type_schema, status=201,
                  tag="documents",
                  description="A duplicate name answers 400 (code `unique`) with `existing_id`.",
                  serve=Do(er.create_entity_type, answer=er.created_entity_type)),
    )),
    Route("/api/v1/transcription/{id}/entities/", Served, (
        _list("ListTranscriptionEntities", "List the entities of a transcription, by offset",
              es.transcription_entity_schema, query=es.list_transcription_entities_query, reads=DOCS,
              tag="documents", errors=(404,),
              serve=ListOf(eq.list_transcription_entities, filters=("worker_run",))),
        Operation("POST", "CreateTranscriptionEntity", "Locate an entity in a transcription's text",
                  body=es.create_transcription_entity_body, response=es.transcription_entity_schema,
                  status=201, tag="documents", errors=(403, 404),
                  description="One entity per (transcription, type, offset, length, worker run): a "
                              "duplicate answers 400 (code `unique`). The span must lie in the text.",
                  serve=Do(er.create_transcription_entity, created="entity_ids", first=True,
                           then=One(er.entity, args=("id",)),
                           waits=WRITTEN_DOCS)),
    )),
    Route("/api/v1/transcription/{id}/entities/bulk/", Served, (
        Operation("POST", "CreateTranscriptionEntities", "Locate many entities in a transcription at once",
                  body=es.create_transcription_entities_body, response=es.created_entities_schema, status=201,
                  tag="documents", errors=(403, 404),
                  description="All or nothing, in one transaction; same rules as CreateTranscriptionEntity.",
                  serve=Do(er.create_transcription_entities, answer=er.created_entities)),
    )),
    Route("/api/v1/process/start-activity/", dr.StartWorkerActivityResource, (
        Operation("POST", "StartWorkerActivity", "Start the next worker activity of a process task",
                  response=ds.start_activity_response, tag="worker runs", errors=(404,),
                  description="User worker runs have no process task: always 404, which makes "
                              "base-worker stop iterating cleanly."),
    )),
    # --- provenance (issue 5): what a run produced, what a user made without a run, who made what
    Route("/api/v1/process/workers/{id}/results/", dr.WorkerRunResultsResource, (
        _list("ListWorkerRunResults", "List the objects signed by one of your worker runs, in creation order",
              ds.signed_object_schema, query=ds.list_run_results_query, reads=DOCS, tag="provenance",
              errors=(404,)),
    )),
    Route("/api/v1/process/workers/{id}/retract/", rr.RetractRunResource, (
        Operation("POST", "RetractWorkerRun", "Retract everything one of your worker runs signed",
                  response=ds.retraction_schema, tag="provenance", errors=(404, 409),
                  description="Every element, transcription, classification and metadata (and entity) the "
                              "run signed disappears from the listings; the run signs nothing more. Stored "
                              "as an event: the audit trail keeps what the run published and who retracted "
                              "it, and RetrieveObjectProvenance still answers (`retracted: true`). The "
                              "run's owner or an administrator; anyone else gets 404, as for an unknown "
                              "run. A second retraction: 409 (code `already_retracted`)."),
    )),
    Route("/api/v1/user/results/", Served, (
        _list("ListUserResults", "List the objects you created without a worker run, in creation order",
              ds.signed_object_schema, query=ds.list_run_results_query, reads=DOCS, tag="provenance",
              serve=ListOf(dr.user_results, args=("user_id",), filters=("type",))),
    )),
    Route("/api/v1/provenance/{id}/", Served, (
        _get("RetrieveObjectProvenance",
             "Which worker run (worker, version, configuration, model) or user produced an object",
             ds.provenance_schema, reads=DOCS, tag="provenance",
             serve=One(object_provenance)),
    )),
    # --- images (issue 10): IIIF images (info.json read server-side, guarded) and their servers
    Route("/api/v1/image/iiif/url/", Served, (
        Operation("POST", "CreateIIIFURL", "Register a IIIF image by its URL",
                  body=ims.create_iiif_url_body, response=ims.image_schema, status=201, tag="images",
                  description="Without `width` and `height`, reads `<url>/info.json` (IIIF Image API 2 or 3) "
                              "and stores the image as `checked`; its server is found by URL prefix or "
                              "created. A URL already registered answers 400 with the image's `id`. "
                              "An unreachable or non-IIIF server answers 400 naming the URL.",
                  serve=Do(imr.create_iiif_url, created="image_id", then=IMAGE, waits=WRITTEN_DOCS)),
    )),
    Route("/api/v1/element/{id}/children/bulk/", Served, (
        Operation("POST", "CreateElements", "Create children on their parent's image, at once",
                  body=ims.create_elements_body, response=ims.created_elements_schema, status=201,
                  tag="documents", errors=(403, 404),
                  description="The parent must have a zone; every polygon is checked against its image. "
                              f"One transaction (all or nothing), up to {ims.MAX_BULK} elements, all "
                              "signed by `worker_run_id`.",
                  serve=Do(imr.create_elements, answer=imr.created_elements)),
    )),
    Route("/api/v1/element/{id}/transcriptions/bulk/", Served, (
        Operation("POST", "CreateElementTranscriptions",
                  "Transcriptions on children of a given type and polygon, creating the children",
                  body=ims.create_element_transcriptions_body,
                  response=ims.created_element_transcriptions_schema, status=201, tag="documents",
                  errors=(403, 404),
                  description="An existing child of the same type and polygon is reused (`created: false`). "
                              "One transaction, every element and transcription signed by `worker_run_id`.",
                  serve=Do(imr.create_element_transcriptions, answer=imr.created_element_transcriptions)),
    )),
    Route("/api/v1/image/{id}/", Served, (
        _get("RetrieveImage", "Retrieve an image and its server", ims.image_schema, reads=DOCS, tag="images",
             serve=IMAGE),
        Operation("PATCH", "PartialUpdateImage", "Set an image's status", body=ims.update_image_body,
                  response=ims.image_schema, tag="images", errors=(404,),
                  serve=Do(imr.update_image_status, then=IMAGE, waits=WRITTEN_DOCS)),
    )),
    # --- users
    Route("/api/v1/user/", r.UserResource, (
        Operation("GET", "RetrieveUser", "Retrieve the authenticated user", response=s.user_schema,
                  tag="users",
                  description="Without a token: 401, whose body also says `features: {oidc: false}` "
                              "(`arkindex login` reads it to choose password sign-in)."),
    )),
    Route("/api/v1/user/login/", lr.LoginResource, (
        Operation("POST", "Login", "Sign in with an email (or username) and a password: a new API token",
                  body=lr.login_body, response=lr.login_answer, public=True, tag="users", errors=(429,),
                  description="A wrong email or password: 400, without saying which. Repeated failures "
                              "for an account (5) or a client address (50) within 15 minutes: 429 with "
                              "`Retry-After`. Set a password with `worker-runs users set-password NAME`."),
    )),
    # --- public: the document itself, its docs, health
    Route("/api/v1/openapi/", system.SchemaResource, (
        Operation("GET", "RetrieveOpenAPISchema", "This OpenAPI document (JSON)", query=b.schema_query,
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
    Route("/metrics", system.MetricsResource, (
        Operation("GET", "RetrieveMetrics", "Prometheus metrics: projection lag, checkpoints, parked events",
                  public=True, tag="system", content_type="text/plain"),
    )),
    Route("/readyz", system.ReadyzResource, (
        Operation("GET", "RetrieveReadiness", "Readiness probe: database and projection lag", public=True,
                  tag="system", errors=(503,)),
    )),
    # --- integrations (issue 7): event feed, live stream, audit trail, webhooks
    Route("/api/v1/events/", ir.EventFeedResource, (
        Operation("GET", "RetrieveEventFeed", "Public integration events after a cursor",
                  query=xs.feed_query, response=xs.feed_page_schema, tag="integrations",
                  description="Ordered events visible to you with `position > after`, and the next cursor. "
                              "A full page never changes (cacheable for a year, with an ETag); the head "
                              "page is `no-store`. Schema: docs/integration-events.md."),
    )),
    Route("/api/v1/events/stream", ir.EventStreamResource, (
        Operation("GET", "RetrieveEventStream", "Live integration events (server-sent events)",
                  query=xs.stream_query, tag="integrations", content_type="text/event-stream",
                  errors=(429, 503),
                  description="The feed, live: `id:` is the global position; reconnect with "
                              "`Last-Event-ID` to resume after it. Comment heartbeats keep it open. "
                              "Open streams are capped per user (429) and per API process (503), "
                              "both with `Retry-After` and code `too_many_streams`."),
    )),
    Route("/api/v1/audit/", ir.AuditResource, (
        Operation("GET", "RetrieveAuditTrail", "Audit trail: stored events by actor, run, object, type, time",
                  query=xs.audit_query, response=xs.audit_page_schema, tag="integrations",
                  alternate_content_types=("text/csv",),
                  description="Keyset-paginated by position (`after`, `next`). `format=csv` streams every "
                              "match as CSV. Admins see every event; a user, what they did and the events "
                              "about objects they may see."),
    )),
    Route("/api/v1/audit/runs/{id}/", ir.RunProvenanceResource, (
        Operation("GET", "RetrieveWorkerRunProvenance",
                  "Provenance of a worker run: who created it, when, from which request, and the "
                  "history of its worker and version up to then",
                  response=xs.run_provenance_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/", ir.WebhooksResource, (
        _list("ListWebhooks", "List your webhook subscriptions (admin: all)", xs.webhook_schema, reads=(),
              tag="integrations"),
        Operation("POST", "CreateWebhook", "Subscribe a URL to integration events",
                  body=xs.create_webhook_body, response=xs.webhook_schema, status=201, tag="integrations",
                  description="Deliveries follow Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
                              "`webhook-signature`), in order, from now on. Without a `secret` one is "
                              "generated and shown once. URLs on internal networks are refused."),
    )),
    Route("/api/v1/webhooks/{id}/", ir.WebhookResource, (
        Operation("GET", "RetrieveWebhook", "Retrieve a webhook subscription", response=xs.webhook_schema,
                  tag="integrations", errors=(404,)),
        Operation("PATCH", "PartialUpdateWebhook", "Change a subscription's URL, events, or pause it",
                  body=xs.update_webhook_body, response=xs.webhook_schema, tag="integrations", errors=(404,)),
        Operation("DELETE", "DestroyWebhook", "Delete a webhook subscription", status=204,
                  tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/deliveries/", ir.WebhookDeliveriesResource, (
        Operation("GET", "RetrieveWebhookDeliveries", "Deliveries of a subscription and their attempts",
                  query=xs.deliveries_query, response=xs.deliveries_schema, tag="integrations",
                  errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/changes/", ir.WebhookChangesResource, (
        Operation("GET", "RetrieveWebhookChanges", "Who changed a subscription, when, and how",
                  response=xs.subscription_changes_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/resume/", ir.WebhookResumeResource, (
        Operation("POST", "ResumeWebhook", "Resume a paused subscription (parked events are retried first)",
                  response=xs.webhook_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/replay/", ir.WebhookReplayResource, (
        Operation("POST", "ReplayWebhook", "Deliver again every matching event from a position on",
                  body=xs.replay_body, response=xs.webhook_schema, tag="integrations", errors=(404, 409)),
    )),
    Route("/api/v1/webhooks/{id}/rotate-secret/", ir.WebhookRotateSecretResource, (
        Operation("POST", "RotateWebhookSecret",
                  "New signing secret (shown once); the previous one also signs for 24 hours",
                  body=xs.rotate_secret_body, response=xs.webhook_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/test/", ir.WebhookTestResource, (
        Operation("POST", "SendWebhookTestEvent", "Send a `webhook.test` event now",
                  response=xs.test_delivery_schema, tag="integrations", errors=(404,)),
    )),
)
