"""The append-only event store: SQLAlchemy 2 Core over PostgreSQL or SQLite."""

from eventstore.memory import InMemoryEventStore
from eventstore.ports import EventStore
from eventstore.records import (
    NO_STREAM,
    AppendResult,
    CommandRecord,
    ConcurrencyConflict,
    Metadata,
    NewEvent,
    StoredEvent,
    StreamAppend,
)
from eventstore.store import SqlEventStore

__all__ = [
    "NO_STREAM",
    "AppendResult",
    "CommandRecord",
    "ConcurrencyConflict",
    "EventStore",
    "InMemoryEventStore",
    "Metadata",
    "NewEvent",
    "SqlEventStore",
    "StoredEvent",
    "StreamAppend",
]
