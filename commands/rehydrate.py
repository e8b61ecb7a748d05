"""The one way to turn a stream's stored events back into an aggregate.

Used by the unit of work, the API's authentication and the CLI: each decodes (and upcasts) the
stored events, then folds them with the aggregate's `when_<Event>` methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from domain.aggregate import Aggregate
from domain.events import decode
from eventstore import EventStore, StoredEvent

A = TypeVar("A", bound=Aggregate)


def rehydrate(cls: type[A], stream_id: str, stored: Iterable[StoredEvent]) -> A:
    return cls.replay(stream_id, (decode(e.event_type, e.schema_version, e.payload) for e in stored))


def load(store: EventStore, cls: type[A], stream_id: str) -> A:
    """The aggregate at its current version (version 0 when the stream does not exist)."""
    return rehydrate(cls, stream_id, store.read_stream(stream_id))
