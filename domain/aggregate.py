"""The aggregate base: decide (guard + record one event), evolve (apply)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from domain.events import DomainEvent


class Aggregate:
    """An event-sourced aggregate: state is the fold of its events.

    Command methods check a guard, then call `_record(event)`, which applies the event to the
    state and queues it for the application service to append. `version` is the stream
    version the aggregate was loaded at plus the events applied since, and the unit of work
    appends with the loaded version as the expected one.
    """

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.version = 0
        self.pending: list[DomainEvent] = []

    @property
    def exists(self) -> bool:
        return self.version > 0

    @classmethod
    def replay(cls, stream_id: str, events: Iterable[DomainEvent]) -> Self:
        agg = cls(stream_id)
        for event in events:
            agg.apply(event)
        return agg

    def apply(self, event: DomainEvent) -> None:
        # One `when_<EventName>` method per event type: greppable, no metaclass magic.
        handler = getattr(self, f"when_{type(event).__name__}", None)
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot apply {type(event).__name__}")
        handler(event)
        self.version += 1

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    def collect(self) -> list[DomainEvent]:
        events, self.pending = self.pending, []
        return events
