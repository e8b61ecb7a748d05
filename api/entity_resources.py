"""Falcon resources of the transcription entities (issue 10 B): entity types per corpus and
entities on transcriptions, signed by a worker run like everything workers publish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import falcon

from api import document_presenters as p
from api import entity_schemas as es
from api.resources import _actor, _CommandResource
from commands import entity_messages as em
from projections import entity_queries as eq
from projections import queries as q
from projections.document_queries import DOCUMENTS
from projections.queries import Row


def _entity_type(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["type_id"], "name": row["name"], "color": row["color"], "corpus": row["corpus_id"]}


def _entity(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["entity_id"],
        "type": {"id": row["type_id"], "name": row["type_name"], "color": row["type_color"]},
        "type_id": row["type_id"],
        "offset": row["offset"],
        "length": row["length"],
        "confidence": row["confidence"],
        "worker_run_id": row["worker_run_id"],
        "worker_run": p.worker_run_light(row),
    }


def _items(entities: list[dict[str, Any]]) -> tuple[em.EntityItem, ...]:
    return tuple(
        em.EntityItem(
            type_id=str(e["type_id"]), offset=e["offset"], length=e["length"], confidence=e.get("confidence"),
        )
        for e in entities
    )


def _run_id(body: Mapping[str, Any]) -> str | None:
    return None if body.get("worker_run_id") is None else str(body["worker_run_id"])


class CorpusEntityTypesResource(_CommandResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        actor = _actor(req)

        def fetch(conn: Any, **window: int) -> q.Page | None:
            return eq.list_entity_types(conn, actor, str(id), **window)

        self._list(req, resp, fetch, _entity_type, es.entity_type_schema)


class EntityTypesResource(_CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        command = em.CreateEntityType(
            corpus_id=str(body["corpus"]), name=body["name"], color=body.get("color", "ff0000"),
        )
        result = self.commands.run(req, resp, command)
        resp.status = falcon.HTTP_201
        resp.media = es.entity_type_schema.dump(
            {
                "id": result.data["type_id"], "name": command.name, "color": command.color,
                "corpus": command.corpus_id,
            }
        )


class TranscriptionEntitiesResource(_CommandResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        query, actor = req.context.query, _actor(req)

        def fetch(conn: Any, **window: int) -> q.Page | None:
            return eq.list_transcription_entities(
                conn, actor, str(id), worker_run=query.get("worker_run"), **window,
            )

        self._list(req, resp, fetch, _entity, es.transcription_entity_schema)

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        body = req.context.body
        run_id = _run_id(body)
        command = em.CreateTranscriptionEntities(
            transcription_id=str(id), items=_items([body]), worker_run_id=run_id,
        )
        result = self.commands.run(req, resp, command)
        entity_id = result.data["entity_ids"][0]

        def fetch(conn: Any) -> Row | None:
            rows = eq.get_entities(conn, [entity_id])
            return rows[0] if rows else None

        self._written(resp, result, 201, entity_id, fetch, _entity, es.transcription_entity_schema,
                      names=(DOCUMENTS,))


class TranscriptionEntitiesBulkResource(_CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        body = req.context.body
        run_id = _run_id(body)
        command = em.CreateTranscriptionEntities(
            transcription_id=str(id), items=_items(body["transcription_entities"]), worker_run_id=run_id,
        )
        result = self.commands.run(req, resp, command)
        resp.status = falcon.HTTP_201
        resp.media = es.created_entities_schema.dump({"transcription_entities": result.data["entity_ids"]})
