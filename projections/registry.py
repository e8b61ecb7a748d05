"""The projections, in one table: name -> event type -> projector, and the tables each owns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from eventstore import StoredEvent
from projections import (
    catalog,
    documents,  # issue 5
    images,  # issue 10
    user_runs,
)
from projections.ops import Op

Projector = Callable[[StoredEvent], list[Op]]


@dataclass(frozen=True)
class Projection:
    name: str
    projectors: Mapping[str, Projector]
    tables: tuple[str, ...]

    def handle(self, event: StoredEvent) -> list[Op]:
        projector = self.projectors.get(event.event_type)
        return projector(event) if projector else []


PROJECTIONS: dict[str, Projection] = {
    p.name: p
    for p in (
        Projection("catalog", catalog.PROJECTORS, catalog.TABLES),
        Projection("user_runs", user_runs.PROJECTORS, user_runs.TABLES),
        # issue 5; images (issue 10) in the same projection: an element's zone shows its image
        Projection(
            "documents", {**documents.PROJECTORS, **images.PROJECTORS}, documents.TABLES + images.TABLES,
        ),
    )
}
