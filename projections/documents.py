"""The `documents` projection: corpora (element types, ML classes) and elements with their
transcriptions, classifications and metadata, each with its creator (user and signing run).

Pure projectors, one row per event: a bulk import of N transcriptions becomes N upserts of the
same shape, which projections/apply.py writes as one executemany.
"""

from __future__ import annotations

from typing import Any

from eventstore import StoredEvent
from projections.ops import Op, Upsert


def _signed(e: StoredEvent) -> dict[str, Any]:
    return {
        "user_id": e.payload["user_id"],
        "worker_run_id": e.payload.get("worker_run_id"),
        "created_at": e.occurred_at,
        "created_position": e.global_position,
    }


def on_corpus_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_corpora",
            {"corpus_id": p["corpus_id"]},
            {
                "name": p["name"],
                "description": p.get("description", ""),
                "owner_id": p["owner_id"],
                "created_at": e.occurred_at,
                "created_position": e.global_position,
            },
        )
    ]


def on_element_type_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_element_types",
            {"type_id": p["type_id"]},
            {
                "corpus_id": p["corpus_id"],
                "slug": p["slug"],
                "display_name": p["display_name"],
                "folder": p["folder"],
                "color": p["color"],
            },
        )
    ]


def on_ml_class_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert("rm_ml_classes", {"class_id": p["class_id"]}, {"corpus_id": p["corpus_id"], "name": p["name"]})
    ]


def on_element_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_elements",
            {"element_id": p["element_id"]},
            {
                "corpus_id": p["corpus_id"],
                "type": p["type"],
                "name": p["name"],
                "parent_id": p.get("parent_id"),
                "polygon": p.get("polygon"),
                "image_id": p.get("image_id"),
                "confidence": p.get("confidence"),
                **_signed(e),
            },
        )
    ]


def on_transcription_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_transcriptions",
            {"transcription_id": p["transcription_id"]},
            {
                "element_id": p["element_id"],
                "text": p["text"],
                "confidence": p.get("confidence"),
                "orientation": p.get("orientation", "horizontal-lr"),
                **_signed(e),
            },
        )
    ]


def on_classification_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_classifications",
            {"classification_id": p["classification_id"]},
            {
                "element_id": p["element_id"],
                "ml_class_id": p["ml_class_id"],
                "confidence": p["confidence"],
                "high_confidence": p.get("high_confidence", False),
                **_signed(e),
            },
        )
    ]


def on_metadata_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [
        Upsert(
            "rm_metadata",
            {"metadata_id": p["metadata_id"]},
            {
                "element_id": p["element_id"],
                "type": p["type"],
                "name": p["name"],
                "value": p["value"],
                "entity_id": p.get("entity_id"),
                **_signed(e),
            },
        )
    ]


PROJECTORS = {
    "CorpusCreated": on_corpus_created,
    "ElementTypeCreated": on_element_type_created,
    "MLClassCreated": on_ml_class_created,
    "ElementCreated": on_element_created,
    "TranscriptionCreated": on_transcription_created,
    "ClassificationCreated": on_classification_created,
    "MetaDataCreated": on_metadata_created,
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
