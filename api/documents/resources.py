"""Falcon resources of the document operations (issue 5): corpora, element types, ML classes,
elements, transcriptions, classifications, metadata, and the provenance queries.

As in api/catalog/resources.py: the reads and command builders of the generic operations
(api/documents/routes.py rows, served by api/operations.py), and the resources that answer by
hand (bulk writes, the provenance of a run's results). Every write that carries a
`worker_run_id` passes it to the bus too, which stores it in the events' indexed column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import falcon

from api.base_resources import Resource, actor_of
from api.documents import presenters as p
from api.documents import schemas as ds
from api.errors import CLIENT, ApiError, error_entry
from api.operations import Call
from commands import messages as m
from commands.bus import CommandResult
from domain.actor import Actor
from projections import document_queries as dq
from projections import queries as q

# --- corpora ---------------------------------------------------------------------------------


def corpus(conn: Any, actor: Actor, corpus_id: str) -> dict[str, Any] | None:
    """A corpus with its element types (RetrieveCorpus, and CreateCorpus's answer)."""
    row = dq.get_corpus(conn, actor, corpus_id)
    return None if row is None else p.corpus(row, dq.corpus_types(conn, corpus_id))


def create_corpus(call: Call) -> m.CreateCorpus:
    return m.CreateCorpus(name=call.body["name"], description=call.body.get("description", ""))


def create_element_type(call: Call) -> m.CreateElementType:
    body = call.body
    return m.CreateElementType(
        corpus_id=str(body["corpus"]),
        slug=body["slug"],
        display_name=body["display_name"],
        folder=body.get("folder", False),
        color=body.get("color", "28b62c"),
    )


def create_ml_class(call: Call) -> m.CreateMLClass:
    return m.CreateMLClass(corpus_id=call.id, name=call.body["name"])


def created_ml_class(command: m.CreateMLClass, result: CommandResult) -> dict[str, Any]:
    return {"id": result.data["class_id"], "name": command.name}


# --- elements ----------------------------------------------------------------------------------


def element(conn: Any, actor: Actor, element_id: str) -> dict[str, Any] | None:
    """An element with its classifications (RetrieveElement, and the writes' answers)."""
    row = dq.get_element(conn, actor, element_id)
    if row is None:
        return None
    return p.element(row, dq.element_classifications(conn, [element_id])[element_id])


def create_element(call: Call) -> m.CreateElement:
    body = call.body
    return m.CreateElement(
        corpus_id=str(body["corpus"]),
        type=body["type"],
        name=body["name"],
        parent_id=call.id_of("parent"),
        polygon=body.get("polygon"),
        image_id=call.id_of("image"),
        confidence=body.get("confidence"),
        worker_run_id=call.id_of("worker_run_id"),
    )


# --- transcriptions ----------------------------------------------------------------------------


def _transcription_item(element_id: str, t: Mapping[str, Any]) -> m.TranscriptionItem:
    """One transcription as CreateTranscription's body or a CreateTranscriptions entry gives it."""
    return m.TranscriptionItem(
        element_id=element_id,
        text=t["text"],
        confidence=t.get("confidence"),
        orientation=t.get("orientation", "horizontal-lr"),
    )


def create_transcription(call: Call) -> m.CreateTranscription:
    return m.CreateTranscription(
        element_id=call.id,
        worker_run_id=call.id_of("worker_run_id"),
        item=_transcription_item(call.id, call.body),
    )


def create_transcriptions(call: Call) -> m.CreateTranscriptions:
    items = tuple(_transcription_item(str(t["element_id"]), t) for t in call.body["transcriptions"])
    return m.CreateTranscriptions(items=items, worker_run_id=str(call.body["worker_run_id"]))


def created_transcriptions(command: m.CreateTranscriptions, result: CommandResult) -> dict[str, Any]:
    # Answered from the request and the new ids: nothing to read back, so a bulk import
    # never waits for the projection (later reads still do, read-your-writes).
    return {
        "worker_run_id": command.worker_run_id,
        "transcriptions": [
            {
                "id": new_id,
                "element_id": item.element_id,
                "text": item.text,
                "confidence": item.confidence,
                "orientation": item.orientation,
            }
            for new_id, item in zip(result.data["transcription_ids"], command.items, strict=True)
        ],
    }


# --- classifications ---------------------------------------------------------------------------


def _classification_item(c: Mapping[str, Any]) -> m.ClassificationItem:
    """One classification as CreateClassification's body or a CreateClassifications entry gives it."""
    return m.ClassificationItem(
        ml_class_id=str(c["ml_class"]),
        confidence=c["confidence"],
        high_confidence=c.get("high_confidence", False),
    )


def _classification_answer(item: m.ClassificationItem) -> dict[str, Any]:
    """What both answers say of one new classification, besides its id."""
    return {
        "ml_class": item.ml_class_id,
        "confidence": item.confidence,
        "high_confidence": item.high_confidence,
        "state": "pending",
    }


def create_classification(call: Call) -> m.CreateClassification:
    return m.CreateClassification(
        element_id=str(call.body["element"]),
        item=_classification_item(call.body),
        worker_run_id=call.id_of("worker_run_id"),
    )


def created_classification(command: m.CreateClassification, result: CommandResult) -> dict[str, Any]:
    return {
        "id": result.data["classification_ids"][0],
        "element": command.element_id,
        **_classification_answer(command.item),
        "worker_run_id": command.worker_run_id,
    }


def create_classifications(call: Call) -> m.CreateClassifications:
    items = tuple(_classification_item(c) for c in call.body["classifications"])
    return m.CreateClassifications(
        element_id=str(call.body["parent"]), items=items, worker_run_id=str(call.body["worker_run_id"]),
    )


def created_classifications(command: m.CreateClassifications, result: CommandResult) -> dict[str, Any]:
    return {
        "parent": command.element_id,
        "worker_run_id": command.worker_run_id,
        "classifications": [
            {"id": new_id, **_classification_answer(item)}
            for new_id, item in zip(result.data["classification_ids"], command.items, strict=True)
        ],
    }


# --- metadata ----------------------------------------------------------------------------------


def create_metadata(call: Call) -> m.CreateMetaData:
    body = call.body
    return m.CreateMetaData(
        element_id=call.id,
        type=body["type"],
        name=body["name"],
        value=body["value"],
        entity_id=call.id_of("entity_id"),
        worker_run_id=call.id_of("worker_run_id"),
    )


def created_metadata(command: m.CreateMetaData, result: CommandResult) -> dict[str, Any]:
    return {
        "metadata_id": result.data["metadata_id"],
        "type": command.type,
        "name": command.name,
        "value": command.value,
        "entity_id": command.entity_id,
        "worker_run_id": command.worker_run_id,
    }


def create_metadata_bulk(call: Call) -> m.CreateMetaDataBulk:
    items = tuple(
        m.MetaDataItem(type=i["type"], name=i["name"], value=i["value"]) for i in call.body["metadata_list"]
    )
    return m.CreateMetaDataBulk(element_id=call.id, items=items, worker_run_id=call.id_of("worker_run_id"))


def created_metadata_bulk(command: m.CreateMetaDataBulk, result: CommandResult) -> dict[str, Any]:
    run_id = command.worker_run_id
    return {
        "worker_run_id": run_id,
        "metadata_list": [
            {
                "metadata_id": new_id,
                "type": i.type,
                "name": i.name,
                "value": i.value,
                "entity_id": None,
                "worker_run_id": run_id,
            }
            for new_id, i in zip(result.data["metadata_ids"], command.items, strict=True)
        ],
    }


# --- worker start-up ---------------------------------------------------------------------------


class StartWorkerActivityResource:
    """StartWorkerActivity hands out the next element of a process task. User worker runs have
    no task (their process is `local`, with activities disabled), so a user token always gets
    404: base-worker's WorkerActivityIterator stops cleanly on 400/404 (arkindex-api.md §5.4)."""

    # POST, as Arkindex declares it (the official client reads the method from our schema;
    # raw scripts that hard-code it do not).
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise ApiError(
            status=404,
            type=CLIENT,
            errors=[
                error_entry(
                    "not_found",
                    "No worker activity to start: user worker runs have no process task. "
                    "Pass the elements to process on the command line (--element, --elements-list).",
                )
            ],
        )


# --- provenance --------------------------------------------------------------------------------


class WorkerRunResultsResource(Resource):
    """ListWorkerRunResults: what a run produced. Like the run itself, only for its owner."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        query, actor = req.context.query, actor_of(req)
        # Every item is signed by this run: its summary is read once, with the run.
        summaries: dict[str, str | None] = {}

        def fetch(conn: Any, keyset: q.Keyset) -> q.KeysetPage | None:
            run = q.get_user_run(conn, actor, str(id))
            if run is None:
                return None
            summaries[run["run_id"]] = run["summary"]
            return dq.list_signed(conn, worker_run_id=str(id), type=query.get("type"), keyset=keyset)

        self._cursor_list(
            req, resp, fetch, lambda row: {**row, "run_summary": summaries.get(row["worker_run_id"])},
            ds.signed_object_schema,
        )


def user_results(conn: Any, user_id: str, *, type: str | None = None, keyset: q.Keyset) -> q.KeysetPage:
    """ListUserResults: what the caller created without a worker run."""
    return dq.list_signed(conn, worker_run_id=None, user_id=user_id, type=type, keyset=keyset)
