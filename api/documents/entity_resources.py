"""The transcription entities (issue 10 B): entity types per corpus and entities on
transcriptions, signed by a worker run like everything workers publish. Reads and command
builders of their generic operations (api/documents/routes.py), and the bulk resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.operations import Call
from commands import entity_messages as em
from commands.bus import CommandResult
from projections import entity_queries as eq
from projections.queries import Row


def _items(entities: list[dict[str, Any]]) -> tuple[em.EntityItem, ...]:
    return tuple(
        em.EntityItem(
            type_id=str(e["type_id"]), offset=e["offset"], length=e["length"], confidence=e.get("confidence"),
        )
        for e in entities
    )


def _run_id(body: Mapping[str, Any]) -> str | None:
    return None if body.get("worker_run_id") is None else str(body["worker_run_id"])


def create_entity_type(call: Call) -> em.CreateEntityType:
    body = call.body
    return em.CreateEntityType(
        corpus_id=str(body["corpus"]), name=body["name"], color=body.get("color", "ff0000"),
    )


def created_entity_type(command: em.CreateEntityType, result: CommandResult) -> dict[str, Any]:
    return {
        "type_id": result.data["type_id"], "name": command.name, "color": command.color,
        "corpus_id": command.corpus_id,
    }


def create_transcription_entity(call: Call) -> em.CreateTranscriptionEntities:
    return em.CreateTranscriptionEntities(
        transcription_id=call.id, items=_items([dict(call.body)]), worker_run_id=_run_id(call.body),
    )


def entity(conn: Any, entity_id: str) -> Row | None:
    rows = eq.get_entities(conn, [entity_id])
    return rows[0] if rows else None


def create_transcription_entities(call: Call) -> em.CreateTranscriptionEntities:
    return em.CreateTranscriptionEntities(
        transcription_id=call.id, items=_items(call.body["transcription_entities"]),
        worker_run_id=_run_id(call.body),
    )


def created_entities(command: em.CreateTranscriptionEntities, result: CommandResult) -> dict[str, Any]:
    return {"transcription_entities": result.data["entity_ids"]}
