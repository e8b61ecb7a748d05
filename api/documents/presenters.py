"""Document read-model rows -> Arkindex shapes (issue 5), for what is assembled from more than
one row: a corpus with its types, an element with its classifications (which the element
listings also show raw, as `classes`). The other document responses read their rows
themselves (api/documents/schemas.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from api.documents.image_presenters import zone
from api.documents.schemas import signing_run

# Any key type: SQLAlchemy RowMapping rows and plain dicts are both accepted.
Row = Mapping[Any, Any]


def corpus(row: Row, types: Sequence[Row]) -> dict[str, Any]:
    return {
        "id": row["corpus_id"],
        "name": row["name"],
        "description": row["description"],
        # Corpora are private to their owner (and admins), who holds every right on them.
        "public": False,
        "rights": ["read", "write", "admin"],
        "types": list(types),  # rows: ElementTypeSchema reads them
        "created": row["created_at"],
    }


def ml_class(row: Row) -> dict[str, Any]:
    return {"id": row["class_id"], "name": row["name"]}


def classification(row: Row) -> dict[str, Any]:
    return {
        "id": row["classification_id"],
        "ml_class": ml_class({"class_id": row["ml_class_id"], "name": row["class_name"]}),
        "state": "pending",
        "confidence": row["confidence"],
        "high_confidence": row["high_confidence"],
        "worker_version": row.get("run_version_id"),
        "worker_run": signing_run(row),
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
        "worker_run": signing_run(row),
        "classifications": [classification(c) for c in classifications],
    }
