"""The projections, in one table: name -> event class -> projector, and the tables each owns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from domain import events as ev
from domain.events import DomainEvent
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
from projections.envelope import Envelope, recorded
from projections.ops import Op, Projector, Projectors


@dataclass(frozen=True)
class Projection:
    name: str
    projectors: Projectors
    tables: tuple[str, ...]
    #: a projector of the stored row for EVERY event, in place of `projectors` (the subject index
    #: reads every event, even of a type only a newer version knows and cannot decode)
    default: Callable[[StoredEvent], list[Op]] | None = None

    @cached_property
    def event_types(self) -> frozenset[str] | None:
        """The stored type names this projection handles (to read only those from the log);
        None when it reads every event (`default`)."""
        if self.default is not None:
            return None
        return frozenset(cls.__name__ for cls in self.projectors)

    def handle(self, envelope: Envelope[DomainEvent]) -> list[Op]:
        projector = self.projectors.get(type(envelope.event))
        return projector(envelope) if projector else []

    def project(self, stored: StoredEvent) -> list[Op]:
        """`handle` for a stored row, decoded (and upcast) only when this projection handles
        its type: an event type this version does not know is skipped, as before decoding.
        A projection with a `default` reads every row itself (the subject index)."""
        if self.default is not None:
            return self.default(stored)
        handled = self.event_types
        if handled is None or stored.event_type not in handled:
            return []
        return self.handle(recorded(stored))


def merged(*maps: Projectors) -> dict[type[DomainEvent], Projector]:
    """Projectors of several modules in one projection: an event handled by more than one
    gets the operations of each, in the order given."""
    by_type: dict[type[DomainEvent], list[Projector]] = {}
    for projectors in maps:
        for event_type, projector in projectors.items():
            by_type.setdefault(event_type, []).append(projector)

    def chain(projectors: list[Projector]) -> Projector:
        if len(projectors) == 1:
            return projectors[0]
        return lambda envelope: [op for projector in projectors for op in projector(envelope)]

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

#: Event classes no read model shows, and why. Every event class is handled by a projection above
#: or listed here: tests/unit/test_projections_projectors.py fails when a new one is in neither.
NOT_PROJECTED: frozenset[type[DomainEvent]] = frozenset({
    # tokens authenticate from the user's own stream (api/auth.py), nothing lists them
    ev.TokenIssued, ev.TokenRevoked,
    # the password hash lives outside the log (api/users/sign_in_tables.py); the event only says it changed
    ev.UserPasswordSet,
})
