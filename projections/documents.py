"""The `documents` projection: corpora (element types, ML classes) and elements with their
transcriptions, classifications and metadata, each with its creator (user and signing run).

Pure projectors, one row per event: a bulk import of N transcriptions becomes N upserts of the
same shape, which projections/apply.py writes as one executemany.
"""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.envelope import Envelope
from projections.ops import Op, Projectors, Upsert

#: what workers publish on documents, each signed by its creator (user and run)
Signed = (
    ev.ElementCreated | ev.TranscriptionCreated | ev.ClassificationCreated | ev.MetaDataCreated
    | ev.TranscriptionEntityCreated
)


def _signed(e: Envelope[Signed]) -> dict[str, Any]:
    return {
        "user_id": e.event.user_id,
        "worker_run_id": e.event.worker_run_id,
        "created_at": e.occurred_at,
        "created_position": e.position,
    }


def on_corpus_created(e: Envelope[ev.CorpusCreated]) -> list[Op]:
    c = e.event
    return [
        Upsert(
            "rm_corpora",
            {"corpus_id": c.corpus_id},
            {
                "name": c.name,
                "description": c.description,
                "owner_id": c.owner_id,
                "created_at": e.occurred_at,
                "created_position": e.position,
            },
        )
    ]


def on_element_type_created(e: Envelope[ev.ElementTypeCreated]) -> list[Op]:
    t = e.event
    return [
        Upsert(
            "rm_element_types",
            {"type_id": t.type_id},
            {
                "corpus_id": t.corpus_id,
                "slug": t.slug,
                "display_name": t.display_name,
                "folder": t.folder,
                "color": t.color,
            },
        )
    ]


def on_ml_class_created(e: Envelope[ev.MLClassCreated]) -> list[Op]:
    c = e.event
    return [Upsert("rm_ml_classes", {"class_id": c.class_id}, {"corpus_id": c.corpus_id, "name": c.name})]


def on_element_created(e: Envelope[ev.ElementCreated]) -> list[Op]:
    el = e.event
    return [
        Upsert(
            "rm_elements",
            {"element_id": el.element_id},
            {
                "corpus_id": el.corpus_id,
                "type": el.type,
                "name": el.name,
                "parent_id": el.parent_id,
                "polygon": el.polygon,
                "image_id": el.image_id,
                "confidence": el.confidence,
                **_signed(e),
            },
        )
    ]


def on_transcription_created(e: Envelope[ev.TranscriptionCreated]) -> list[Op]:
    t = e.event
    return [
        Upsert(
            "rm_transcriptions",
            {"transcription_id": t.transcription_id},
            {
                "element_id": t.element_id,
                "text": t.text,
                "confidence": t.confidence,
                "orientation": t.orientation,
                **_signed(e),
            },
        )
    ]


def on_classification_created(e: Envelope[ev.ClassificationCreated]) -> list[Op]:
    c = e.event
    return [
        Upsert(
            "rm_classifications",
            {"classification_id": c.classification_id},
            {
                "element_id": c.element_id,
                "ml_class_id": c.ml_class_id,
                "confidence": c.confidence,
                "high_confidence": c.high_confidence,
                **_signed(e),
            },
        )
    ]


def on_metadata_created(e: Envelope[ev.MetaDataCreated]) -> list[Op]:
    m = e.event
    return [
        Upsert(
            "rm_metadata",
            {"metadata_id": m.metadata_id},
            {
                "element_id": m.element_id,
                "type": m.type,
                "name": m.name,
                "value": m.value,
                "entity_id": m.entity_id,
                **_signed(e),
            },
        )
    ]


PROJECTORS: Projectors = {
    ev.CorpusCreated: on_corpus_created,
    ev.ElementTypeCreated: on_element_type_created,
    ev.MLClassCreated: on_ml_class_created,
    ev.ElementCreated: on_element_created,
    ev.TranscriptionCreated: on_transcription_created,
    ev.ClassificationCreated: on_classification_created,
    ev.MetaDataCreated: on_metadata_created,
}

TABLES = (
    "rm_corpora",
    "rm_element_types",
    "rm_ml_classes",
    "rm_elements",
    "rm_transcriptions",
    "rm_classifications",
    "rm_metadata",
)
