"""The event store as the layers above see it: a port, so handlers can run on a fake.

`SqlEventStore` (PostgreSQL, SQLite) and `InMemoryEventStore` both satisfy it and both pass the
same contract suite (tests/integration/test_event_store_contract.py), as pyeventsourcing does with its POPO
recorder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from eventstore.listeners import AppendListener
from eventstore.records import AppendResult, CommandRecord, Metadata, StoredEvent, StreamAppend


def in_batches(
    read_all: Callable[[int, int], list[StoredEvent]], after: int, batch_size: int,
) -> Iterator[StoredEvent]:
    """Every event after `after`, `batch_size` at a time: `iter_all` of both stores."""
    while True:
        batch = read_all(after, batch_size)
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1].global_position


class EventStore(Protocol):
    def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
        aliases: Mapping[str, str] | None = None,
        command: CommandRecord | None = None,
    ) -> AppendResult: ...

    def add_append_listener(self, listener: AppendListener) -> None:
        """Call `listener` (a bound method, held weakly) after each append of this process commits."""

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]: ...

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]: ...

    def read_all(
        self, after: int = 0, limit: int = 1000, *, types: Sequence[str] | None = None,
        until: int | None = None,
    ) -> list[StoredEvent]: ...

    def iter_all(self, after: int = 0, batch_size: int = 1000) -> Iterator[StoredEvent]: ...

    def head(self) -> int: ...

    def resolve(self, alias: str) -> str | None: ...

    def resolve_many(self, aliases: Sequence[str]) -> dict[str, str]: ...

    def read_aliased(self, alias: str, max_events: int) -> tuple[str, list[StoredEvent] | None] | None:
        """`resolve` and `read_stream` in one query: None when `alias` is not claimed, else its
        stream and that stream's events — None instead when it has more than `max_events` (a
        long stream is read by version, from a cached aggregate's), or when the store has no
        round trip to save (SQLite)."""

    def read_aliased_with(
        self, alias: str, max_events: int, streams: Mapping[str, int],
    ) -> tuple[tuple[str, list[StoredEvent] | None] | None, dict[str, list[StoredEvent]]]:
        """`read_aliased` and, for each stream of `streams`, its events after the version given
        (`read_stream`), in one query on PostgreSQL (CreateUserRun: the worker by its version's
        alias and the user's local process): the first's answer, and stream id -> its events in
        version order ([] for a stream with none after that version)."""

    def get_command(self, command_id: str) -> CommandRecord | None: ...
