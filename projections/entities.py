"""Transcription entities (issue 10 B) in the `documents` projection: entity types per corpus
and entities on transcriptions, each with its creator (user and signing run)."""

from __future__ import annotations

from domain import events as ev
from projections.documents import _signed
from projections.envelope import Envelope
from projections.ops import Op, Projectors, Upsert


def on_entity_type_created(e: Envelope[ev.EntityTypeCreated]) -> list[Op]:
    t = e.event
    return [
        Upsert(
            "rm_entity_types",
            {"type_id": t.type_id},
            {"corpus_id": t.corpus_id, "name": t.name, "color": t.color},
        )
    ]


def on_transcription_entity_created(e: Envelope[ev.TranscriptionEntityCreated]) -> list[Op]:
    t = e.event
    return [
        Upsert(
            "rm_transcription_entities",
            {"entity_id": t.entity_id},
            {
                "transcription_id": t.transcription_id,
                "element_id": t.element_id,
                "type_id": t.type_id,
                "offset": t.offset,
                "length": t.length,
                "confidence": t.confidence,
                **_signed(e),
            },
        )
    ]


PROJECTORS: Projectors = {
    ev.EntityTypeCreated: on_entity_type_created,
    ev.TranscriptionEntityCreated: on_transcription_entity_created,
}

TABLES = ("rm_entity_types", "rm_transcription_entities")
