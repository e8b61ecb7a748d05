"""Transcription entities (issue 10 B) in the `documents` projection: entity types per corpus
and entities on transcriptions, each with its creator (user and signing run)."""

from __future__ import annotations

from eventstore import StoredEvent
from projections.documents import _signed
from projections.ops import Op, Upsert


def on_entity_type_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_entity_types",
            {"type_id": p["type_id"]},
            {"corpus_id": p["corpus_id"], "name": p["name"], "color": p.get("color", "ff0000")},
        )
    ]


def on_transcription_entity_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_transcription_entities",
            {"entity_id": p["entity_id"]},
            {
                "transcription_id": p["transcription_id"],
                "element_id": p["element_id"],
                "type_id": p["type_id"],
                "offset": p["offset"],
                "length": p["length"],
                "confidence": p.get("confidence"),
                **_signed(e),
            },
        )
    ]


PROJECTORS = {
    "EntityTypeCreated": on_entity_type_created,
    "TranscriptionEntityCreated": on_transcription_entity_created,
}

TABLES = ("rm_entity_types", "rm_transcription_entities")
