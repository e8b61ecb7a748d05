"""The documents' routes (issue 5 and on): corpora, element types, ML classes, elements and their
tree, transcriptions, classifications, metadata, entities, the provenance of what runs signed,
images. Paths and operationIds as arkindex-base-worker 0.6 calls them."""

from __future__ import annotations

from api.catalog import schemas as s
from api.documents import element_tree_resources as tr
from api.documents import element_tree_schemas as ts
from api.documents import entity_resources as er
from api.documents import entity_schemas as es
from api.documents import image_resources as imr
from api.documents import image_schemas as ims
from api.documents import presenters as dp
from api.documents import resources as dr
from api.documents import retraction_resources as rr
from api.documents import schemas as ds
from api.documents.provenance import object_provenance
from api.operations import Do, ListOf, One, Served
from api.route_table import Operation, Route, get_op, list_op
from projections import corpus_run_queries as cq
from projections import document_queries as dq
from projections import entity_queries as eq
from projections.document_queries import DOCUMENTS
from projections.queries import CATALOG, USER_RUNS

DOCS = (CATALOG, USER_RUNS, DOCUMENTS)  # issue 5: documents show their signing run
CORPUS = One(dr.corpus)
ELEMENT = One(dr.element)
TRANSCRIPTION = One(dq.get_transcription)
IMAGE = One(imr.image, args=("id",), missing="No such image.")
#: what a document write waits for before reading its object back
WRITTEN_DOCS = (DOCUMENTS,)


DOCUMENT_ROUTES: tuple[Route, ...] = (
    # --- documents (issue 5): what workers publish, each object signed by a worker run or a user.
    # Paths and operationIds as arkindex-base-worker 0.6 calls them.
    Route("/api/v1/corpus/", Served, (
        Operation("POST", "CreateCorpus", "Create a corpus (private to you)", body=ds.create_corpus_body,
                  response=ds.corpus_schema, status=201, tag="documents",
                  serve=Do(dr.create_corpus, created="corpus_id", then=CORPUS, waits=WRITTEN_DOCS)),
    )),
    Route("/api/v1/corpus/{id}/", Served, (
        get_op("RetrieveCorpus", "Retrieve a corpus with its element types", ds.corpus_schema, reads=DOCS,
               tag="documents", serve=CORPUS),
    )),
    Route("/api/v1/corpus/{id}/classes/", Served, (
        list_op("ListCorpusMLClasses", "List the ML classes of a corpus, by name", ds.ml_class_schema,
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
        get_op("RetrieveElement", "Retrieve an element with its classifications and creator",
               ds.element_schema, reads=DOCS, tag="documents", serve=ELEMENT),
        # issue 10: PartialUpdateElement (api/documents/image_resources.py)
        Operation("PATCH", "PartialUpdateElement",
                  "Change an element's type, name, zone (image, polygon), confidence or orientation",
                  body=ims.update_element_body, response=ds.element_schema, tag="documents", errors=(404,),
                  serve=Do(imr.update_element, then=ELEMENT, waits=WRITTEN_DOCS)),
    )),
    # --- element tree (issue 10 B): links and listings, as base-worker and the CLI call them
    Route("/api/v1/corpus/{corpus}/elements/", Served, (
        list_op("ListElements", "List the elements of a corpus, oldest first", ts.listed_element_schema,
                query=ts.element_list_query, reads=DOCS, tag="documents", errors=(404,),
                description="Filters: `type`, `name` (contains), `folder`, `top_level`, "
                            "`worker_run=<id>|false`, `transcription_worker_run=<id>|false`; "
                            "`with_classes`, `with_metadata`, `with_has_children`, `with_zone` add fields.",
                serve=ListOf(tr.corpus_elements, filters=tr.LISTING)),
    ), falcon_path="/api/v1/corpus/{id}/elements/"),
    Route("/api/v1/elements/{id}/children/", Served, (
        list_op("ListElementChildren", "List the children of an element, oldest first",
                ts.listed_element_schema,
                query=ts.related_elements_query, reads=DOCS, tag="documents", errors=(404,),
                description="`recursive`: every descendant, through any parent. Filters as ListElements.",
                serve=ListOf(tr.element_children, filters=("recursive", *tr.LISTING))),
    )),
    Route("/api/v1/elements/{id}/parents/", Served, (
        list_op("ListElementParents", "List the parents of an element, oldest first",
                ts.listed_element_schema,
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
        list_op("ListTranscriptions", "List the transcriptions of an element, oldest first",
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
        list_op("ListElementMetaData", "List the metadata of an element, by name", ds.element_metadata_schema,
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
        list_op("ListCorpusWorkerRuns", "List the worker runs that produced data in a corpus, newest first",
                s.worker_run_schema, reads=DOCS, tag="worker runs", errors=(404,),
                description="Runs that signed an element of the corpus or anything on one (transcription, "
                            "classification, metadata, entity), for those who may read the corpus.",
                serve=ListOf(cq.list_corpus_runs)),
    )),
    # --- transcription entities (issue 10 B), as base-worker 0.6 calls them
    Route("/api/v1/corpus/{id}/entity-types/", Served, (
        list_op("ListCorpusEntityTypes", "List the entity types of a corpus, by name", es.entity_type_schema,
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
        list_op("ListTranscriptionEntities", "List the entities of a transcription, by offset",
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
        list_op("ListWorkerRunResults",
                "List the objects signed by one of your worker runs, in creation order",
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
        list_op("ListUserResults", "List the objects you created without a worker run, in creation order",
                ds.signed_object_schema, query=ds.list_run_results_query, reads=DOCS, tag="provenance",
                serve=ListOf(dr.user_results, args=("user_id",), filters=("type",))),
    )),
    Route("/api/v1/provenance/{id}/", Served, (
        get_op("RetrieveObjectProvenance",
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
        get_op("RetrieveImage", "Retrieve an image and its server", ims.image_schema, reads=DOCS,
               tag="images",
               serve=IMAGE),
        Operation("PATCH", "PartialUpdateImage", "Set an image's status", body=ims.update_image_body,
                  response=ims.image_schema, tag="images", errors=(404,),
                  serve=Do(imr.update_image_status, then=IMAGE, waits=WRITTEN_DOCS)),
    )),
)
