"""The `documents` projection: corpora (element types, ML classes) and elements with their
transcriptions, classifications and metadata, each with its creator (user and signing run).

Pure projectors, one row per event: a bulk import of N transcriptions becomes N upserts of the
same shape, which projections/apply.py writes as one executemany.
"""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections.envelope import Envelope
from projections.ops import Op, Projectors, copy_row

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
    return [copy_row("rm_corpora", e.event, "corpus_id", ("name", "description", "owner_id"),
                     created_at=e.occurred_at, created_position=e.position)]


def on_element_type_created(e: Envelope[ev.ElementTypeCreated]) -> list[Op]:
    return [copy_row("rm_element_types", e.event, "type_id",
                     ("corpus_id", "slug", "display_name", "folder", "color"))]


def on_ml_class_created(e: Envelope[ev.MLClassCreated]) -> list[Op]:
    return [copy_row("rm_ml_classes", e.event, "class_id", ("corpus_id", "name"))]


def on_element_created(e: Envelope[ev.ElementCreated]) -> list[Op]:
    return [copy_row(
        "rm_elements", e.event, "element_id",
        ("corpus_id", "type", "name", "parent_id", "polygon", "image_id", "confidence"), **_signed(e),
    )]


def on_transcription_created(e: Envelope[ev.TranscriptionCreated]) -> list[Op]:
    return [copy_row("rm_transcriptions", e.event, "transcription_id",
                     ("element_id", "text", "confidence", "orientation"), **_signed(e))]


def on_classification_created(e: Envelope[ev.ClassificationCreated]) -> list[Op]:
    return [copy_row("rm_classifications", e.event, "classification_id",
                     ("element_id", "ml_class_id", "confidence", "high_confidence"), **_signed(e))]


def on_metadata_created(e: Envelope[ev.MetaDataCreated]) -> list[Op]:
    return [copy_row("rm_metadata", e.event, "metadata_id",
                     ("element_id", "type", "name", "value", "entity_id"), **_signed(e))]


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
