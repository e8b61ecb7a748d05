"""`InMemoryEventStore`: the event-store contract in plain Python, for tests that need no database.

Same semantics as `SqlEventStore` (tests/integration/test_event_store_contract.py runs on both): optimistic
concurrency per stream, atomic multi-stream appends with alias claims and the command log,
gap-free positions, deterministic event ids per command. One lock serialises appends, which is
what the SQL store's position-counter row lock does too.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime

from eventstore.listeners import AppendListener, AppendListeners
from eventstore.ports import in_batches
from eventstore.records import (
    AppendResult,
    CommandRecord,
    ConcurrencyConflict,
    Metadata,
    StoredEvent,
    StreamAppend,
)


class InMemoryEventStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[StoredEvent] = []
        self._streams: dict[str, list[StoredEvent]] = {}
        self._aliases: dict[str, str] = {}
        self._commands: dict[str, CommandRecord] = {}
        self._event_ids: set[str] = set()
        self._listeners = AppendListeners()

    def add_append_listener(self, listener: AppendListener) -> None:
        self._listeners.add(listener)

    # --- writing ------------------------------------------------------------------------------

    def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
        aliases: Mapping[str, str] | None = None,
        command: CommandRecord | None = None,
    ) -> AppendResult:
        result = self._append(appends, metadata, aliases, command)
        self._listeners.notify(appends)
        return result

    def _append(
        self, appends: Sequence[StreamAppend], metadata: Metadata,
        aliases: Mapping[str, str] | None, command: CommandRecord | None,
    ) -> AppendResult:
        if metadata.occurred_at.tzinfo is None:
            raise ValueError("naive datetime refused: occurred_at needs a time zone")
        with self._lock:
            # Every check first, then every write: an append is all or nothing.
            if command is not None and command.command_id in self._commands:
                raise ConcurrencyConflict(f"command {command.command_id} already recorded")
            for alias in aliases or {}:
                if alias in self._aliases:
                    raise ConcurrencyConflict(f"alias {alias} already claimed")
            for a in appends:
                current = len(self._streams.get(a.stream_id, ()))
                if current != a.expected_version:
                    raise ConcurrencyConflict(
                        f"stream {a.stream_id} is at version {current}, expected {a.expected_version}"
                    )
            new = self._new_events(appends, metadata)
            if any(e.event_id in self._event_ids for e in new):
                raise ConcurrencyConflict("event id already recorded (replayed command)")
            for event in new:
                self._events.append(event)
                self._streams.setdefault(event.stream_id, []).append(event)
                self._event_ids.add(event.event_id)
            self._aliases.update(aliases or {})
            first = new[0].global_position if new else None
            last = new[-1].global_position if new else None
            if command is not None:
                position = last if last is not None else command.position
                self._commands[command.command_id] = dataclasses.replace(
                    command, response=copy.deepcopy(command.response), position=position,
                )
        return AppendResult(first, last)

    def _new_events(self, appends: Sequence[StreamAppend], md: Metadata) -> list[StoredEvent]:
        position = len(self._events)
        recorded_at = datetime.now(UTC)
        new: list[StoredEvent] = []
        for a in appends:
            for offset, event in enumerate(a.events, start=1):
                position += 1
                event_id = (
                    uuid.uuid5(uuid.UUID(int=0), f"{md.command_id}/{a.stream_id}/{offset}")
                    if md.command_id else uuid.uuid4()
                )
                new.append(StoredEvent(
                    global_position=position, stream_id=a.stream_id,
                    stream_version=a.expected_version + offset, event_id=str(event_id),
                    event_type=event.event_type, schema_version=event.schema_version,
                    # A copy, as a database would hold: later mutation by the caller changes nothing.
                    payload=copy.deepcopy(event.payload),
                    occurred_at=md.occurred_at.astimezone(UTC), recorded_at=recorded_at,
                    actor_type=md.actor_type, actor_id=md.actor_id, correlation_id=md.correlation_id,
                    causation_id=md.causation_id, command_id=md.command_id, worker_run_id=md.worker_run_id,
                ))
        return new

    # --- reading ------------------------------------------------------------------------------

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        with self._lock:
            return [e for e in self._streams.get(stream_id, ()) if e.stream_version > after_version]

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        with self._lock:
            return {stream_id: list(self._streams.get(stream_id, ())) for stream_id in stream_ids}

    def read_all(
        self, after: int = 0, limit: int = 1000, *, types: Sequence[str] | None = None,
        until: int | None = None,
    ) -> list[StoredEvent]:
        with self._lock:
            # Positions are 1..n, so the events after `after` start at index `after`.
            candidates = self._events[max(after, 0):until]
        wanted = set(types) if types else None
        return [e for e in candidates if wanted is None or e.event_type in wanted][:limit]

    def iter_all(self, after: int = 0, batch_size: int = 1000) -> Iterator[StoredEvent]:
        return in_batches(self.read_all, after, batch_size)

    def head(self) -> int:
        with self._lock:
            return len(self._events)

    def resolve(self, alias: str) -> str | None:
        with self._lock:
            return self._aliases.get(alias)

    def read_aliased(self, alias: str, max_events: int) -> tuple[str, list[StoredEvent] | None] | None:
        with self._lock:
            stream_id = self._aliases.get(alias)
            if stream_id is None:
                return None
            stored = list(self._streams.get(stream_id, ()))
        return stream_id, (stored if len(stored) <= max_events else None)

    def read_aliased_with(
        self, alias: str, max_events: int, streams: Mapping[str, int],
    ) -> tuple[tuple[str, list[StoredEvent] | None] | None, dict[str, list[StoredEvent]]]:
        # One snapshot, as PostgreSQL's one statement reads.
        with self._lock:
            stream_id = self._aliases.get(alias)
            aliased = None if stream_id is None else list(self._streams.get(stream_id, ()))
            named = {s: [e for e in self._streams.get(s, ()) if e.stream_version > after]
                     for s, after in streams.items()}
        if stream_id is None or aliased is None:
            return None, named
        return (stream_id, aliased if len(aliased) <= max_events else None), named

    def resolve_many(self, aliases: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return {alias: self._aliases[alias] for alias in aliases if alias in self._aliases}

    def get_command(self, command_id: str) -> CommandRecord | None:
        with self._lock:
            return self._commands.get(command_id)
