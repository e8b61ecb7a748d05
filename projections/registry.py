"""The projections, in one table: name -> event type -> projector, and the tables each owns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from eventstore import StoredEvent
from projections import (
    catalog,
    documents,  # issue 5
    entities,  # issue 10 B
    images,  # issue 10 A
    paths,  # issue 10 B
    retractions,  # issue 14
    user_runs,
)
from projections.ops import Op

Projector = Callable[[StoredEvent], list[Op]]


@dataclass(frozen=True)
class Projection:
    name: str
    projectors: Mapping[str, Projector]
    tables: tuple[str, ...]
    #: for every event type without a projector of its own (the subject index reads every event,
    #: even of a type only a newer version knows); None: such events change nothing
    default: Projector | None = None

    def handle(self, event: StoredEvent) -> list[Op]:
        projector = self.projectors.get(event.event_type, self.default)
        return projector(event) if projector else []


def merged(*maps: Mapping[str, Projector]) -> dict[str, Projector]:
    """Projectors of several modules in one projection: an event handled by more than one
    gets the operations of each, in the order given."""
    by_type: dict[str, list[Projector]] = {}
    for projectors in maps:
        for event_type, projector in projectors.items():
            by_type.setdefault(event_type, []).append(projector)

    def chain(projectors: list[Projector]) -> Projector:
        if len(projectors) == 1:
            return projectors[0]
        return lambda event: [op for projector in projectors for op in projector(event)]

    return {event_type: chain(projectors) for event_type, projectors in by_type.items()}


PROJECTIONS: dict[str, Projection] = {
    p.name: p
    for p in (
        Projection("catalog", catalog.PROJECTORS, catalog.TABLES),
        Projection("user_runs", user_runs.PROJECTORS, user_runs.TABLES),
        # issue 5; images (issue 10 A: an element's zone shows its image) and element paths (issue 10 B:
        # listings join them) in the same projection, and retracted runs (issue 14: the listings hide
        # what they signed, at the same position)
        Projection(
            "documents",
            merged(documents.PROJECTORS, images.PROJECTORS, paths.PROJECTORS, entities.PROJECTORS,
                   retractions.PROJECTORS),
            documents.TABLES + images.TABLES + paths.TABLES + entities.TABLES + retractions.TABLES,
        ),
    )
}
