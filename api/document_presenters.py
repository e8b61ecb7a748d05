"""Document read-model rows -> Arkindex shapes (issue 5). Pure functions, like api/presenters.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from api.image_presenters import zone

# Any key type: SQLAlchemy RowMapping rows and plain dicts are both accepted.
Row = Mapping[Any, Any]


def worker_run_light(row: Row) -> dict[str, Any] | None:
    """`worker_run: {id, summary}` of a signed object, None when a user created it alone."""
    if row["worker_run_id"] is None:
        return None
    return {"id": row["worker_run_id"], "summary": row.get("run_summary")}


def element_type(row: Row) -> dict[str, Any]:
    return {
        "id": row["type_id"],
        "corpus": row["corpus_id"],
        "slug": row["slug"],
        "display_name": row["display_name"],
        "folder": row["folder"],
        "color": row["color"],
    }


def corpus(row: Row, types: Sequence[Row]) -> dict[str, Any]:
    return {
        "id": row["corpus_id"],
        "name": row["name"],
        "description": row["description"],
        # Corpora are private to their owner (and admins), who holds every right on them.
        "public": False,
        "rights": ["read", "write", "admin"],
        "types": [element_type(t) for t in types],
        "created": row["created_at"],
    }


def ml_class(row: Row) -> dict[str, Any]:
    return {"id": row["class_id"], "name": row["name"]}


def classification(row: Row) -> dict[str, Any]:
    return {
        "id": row["classification_id"],
        "ml_class": {"id": row["ml_class_id"], "name": row["class_name"]},
        "state": "pending",
        "confidence": row["confidence"],
        "high_confidence": row["high_confidence"],
        "worker_version": row.get("run_version_id"),
        "worker_run": worker_run_light(row),
    }


def element(row: Row, classifications: Sequence[Row] = ()) -> dict[str, Any]:
    return {
        "id": row["element_id"],
        "name": row["name"],
        "type": row["type"],
        "corpus": {"id": row["corpus_id"], "name": row["corpus_name"], "public": False},
        "parent": row["parent_id"],
        "polygon": row["polygon"],
        # issue 10: the polygon on its IIIF image (null without one); base-worker reads it
        "zone": zone(row),
        "thumbnail_url": None,
        "rotation_angle": row["rotation_angle"],
        "mirrored": row["mirrored"],
        "confidence": row["confidence"],
        "created": row["created_at"],
        "creator": row.get("creator_name"),
        "worker_version": row.get("run_version_id"),
        "worker_run": worker_run_light(row),
        "classifications": [classification(c) for c in classifications],
    }


def transcription(row: Row) -> dict[str, Any]:
    return {
        "id": row["transcription_id"],
        "text": row["text"],
        "confidence": row["confidence"],
        "orientation": row["orientation"],
        "element": {"id": row["element_id"], "name": row["element_name"], "type": row["element_type"]},
        "worker_version_id": row.get("run_version_id"),
        "worker_run": worker_run_light(row),
        "created": row["created_at"],
    }


def signed_object(row: Row, summaries: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """An item of ListWorkerRunResults / ListUserResults."""
    run_id = row["worker_run_id"]
    return {
        "type": row["type"],
        "id": row["id"],
        "element_id": row["element_id"],
        "label": row["label"],
        "worker_run": None if run_id is None else {"id": run_id, "summary": (summaries or {}).get(run_id)},
        "creator_id": row["user_id"],
        "created": row["created_at"],
    }


def metadata(row: Row) -> dict[str, Any]:
    return {
        "id": row["metadata_id"],
        "type": row["type"],
        "name": row["name"],
        "value": row["value"],
        "entity_id": row["entity_id"],
        "element_id": row["element_id"],
        "worker_run_id": row["worker_run_id"],
        "worker_run": worker_run_light(row),
        "created": row["created_at"],
    }
