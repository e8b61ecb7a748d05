"""The unit of work: load aggregates from the event store, then append what they decided."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from commands.aggregate_cache import AggregateCache
from commands.rehydrate import rehydrate
from domain.aggregate import Aggregate
from domain.errors import DomainError, NotFound
from domain.events import decode
from eventstore import CommandRecord, EventStore, Metadata, NewEvent, StoredEvent, StreamAppend

A = TypeVar("A", bound=Aggregate)

#: streams up to this many events are read together with the alias that names them (`find`)
SHORT_STREAM = 50


def _after(cached: tuple[Aggregate, int] | None) -> int:
    """The stream version to read after: the cached aggregate's, else 0 (the whole stream)."""
    return cached[0].version if cached is not None else 0


class UnitOfWork:
    """Tracks the aggregates a handler loaded and the aliases it claimed, for one attempt."""

    def __init__(self, store: EventStore, clock: Callable[[], datetime], ids: Callable[[], str],
                 cache: AggregateCache | None = None) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.cache = cache
        self._seen: dict[str, Aggregate] = {}
        self._claims: dict[str, str] = {}
        #: claims whose alias must be new: the domain error to raise when another stream owns it
        self._unique: dict[str, Callable[[str], DomainError]] = {}
        #: the highest position among the events loaded: what a reader must reach to see
        #: the state this command decided on, even when it appends nothing new
        self.observed_position = 0

    def new_id(self) -> str:
        return self.ids()

    def load(self, cls: type[A], stream_id: str) -> A:
        """The aggregate at its current version (version 0 when the stream does not exist)."""
        if stream_id in self._seen:
            agg = self._seen[stream_id]
            assert isinstance(agg, cls), f"{stream_id} loaded as {type(agg).__name__}"
            return agg
        cached = self._take(cls, stream_id)
        # Only what was appended since this process's last command on the stream, if cached.
        return self._fold(cls, stream_id, cached, self.store.read_stream(stream_id, _after(cached)))

    def _take(self, cls: type[A], stream_id: str) -> tuple[A, int] | None:
        return self.cache.take(cls, stream_id) if self.cache is not None else None

    def _fold(self, cls: type[A], stream_id: str, cached: tuple[A, int] | None,
              stored: Sequence[StoredEvent]) -> A:
        """The aggregate from `stored`: the whole stream, or with `cached` the events past
        its version only (no replay)."""
        if cached is None:
            return self._remember(rehydrate(cls, stream_id, stored), stored)
        agg, seen_position = cached
        for stored_event in stored:
            agg.apply(decode(stored_event.event_type, stored_event.schema_version, stored_event.payload))
        self.observed_position = max(self.observed_position, seen_position)
        return self._remember(agg, stored)

    def start(self, cls: type[A], stream_id: str) -> A:
        """A new aggregate for a stream named by a fresh id, without reading it: it cannot exist
        yet (and if it did, the append's expected version 0 would conflict). Saves one query per
        object in bulk commands."""
        assert stream_id not in self._seen, f"{stream_id} is already loaded"
        agg = cls(stream_id)
        self._seen[stream_id] = agg
        return agg

    def load_many(self, cls: type[A], stream_ids: Sequence[str]) -> dict[str, A]:
        """Like `load` for many streams, read with one query (`EventStore.read_streams`)."""
        missing = [s for s in dict.fromkeys(stream_ids) if s not in self._seen]
        for stream_id, stored in self.store.read_streams(missing).items():
            self._remember(rehydrate(cls, stream_id, stored), stored)
        return {stream_id: self.load(cls, stream_id) for stream_id in stream_ids}

    def _remember(self, agg: A, stored: Sequence[StoredEvent]) -> A:
        if stored:
            self.observed_position = max(self.observed_position, stored[-1].global_position)
        self._seen[agg.stream_id] = agg
        return agg

    def get(self, cls: type[A], stream_id: str, message: str, field: str | None = None) -> A:
        """The aggregate, or `NotFound(message)` when its stream does not exist."""
        agg = self.load(cls, stream_id)
        if not agg.exists:
            raise NotFound(message, field=field)
        return agg

    def find(self, cls: type[A], alias: str, message: str, field: str | None = None, *,
             along: Sequence[tuple[type[Aggregate], str]] = ()) -> A:
        """The aggregate owning a natural key or entity id (see `claim`). A short stream comes
        with the alias in one query (`EventStore.read_aliased`); a long one is read by version
        (`load`), from its cached aggregate's. The streams `along` names (class, stream) are
        loaded by the same query (`EventStore.read_aliased_with`), each by version from its
        cached aggregate's: a handler's other reads, in the same round trip."""
        stream_id = self._claims.get(alias)
        wanted = [(c, s) for c, s in dict.fromkeys(along) if s not in self._seen]
        if stream_id is None:
            found = self._read_aliased(alias, wanted)
            if found is None:
                raise NotFound(message, field=field)
            stream_id, stored = found
            if stored is not None and stream_id not in self._seen:
                cached = self._take(cls, stream_id)
                after = _after(cached)
                self._fold(cls, stream_id, cached, [e for e in stored if e.stream_version > after])
        for other, other_stream in wanted:
            self.load(other, other_stream)  # only those not read with the alias
        return self.get(cls, stream_id, message, field)

    def _read_aliased(self, alias: str, wanted: Sequence[tuple[type[Aggregate], str]],
                      ) -> tuple[str, list[StoredEvent] | None] | None:
        """`read_aliased`, loading the `wanted` streams with the same query."""
        if not wanted:
            return self.store.read_aliased(alias, SHORT_STREAM)
        cached = {s: self._take(c, s) for c, s in wanted}
        found, streams = self.store.read_aliased_with(
            alias, SHORT_STREAM, {s: _after(cached[s]) for _, s in wanted})
        for c, s in wanted:
            self._fold(c, s, cached[s], streams[s])
        return found

    def resolve(self, alias: str) -> str | None:
        """The stream owning `alias`: claimed earlier in this unit, or stored."""
        return self._claims.get(alias) or self.store.resolve(alias)

    def claimed(self, alias: str) -> str | None:
        """The stream `alias` was claimed for in this unit, if it was."""
        return self._claims.get(alias)

    def resolve_many(self, aliases: Sequence[str]) -> dict[str, str]:
        """`resolve` for many aliases with one query: the claimed (here or stored) ones."""
        found = self.store.resolve_many([a for a in aliases if a not in self._claims])
        found.update({a: self._claims[a] for a in aliases if a in self._claims})
        return found

    def claim(self, alias: str, stream_id: str,
              taken: Callable[[str], DomainError] | None = None) -> None:
        """Reserve `alias` for `stream_id`, atomically with this unit's events.

        With `taken`, the alias is not looked up beforehand (no round trip): the append's claim
        is the check, as the alias's uniqueness already guards races. When the append is refused
        and another stream owns the alias, `raise_taken` raises `taken(owner stream)`."""
        self._claims[alias] = stream_id
        if taken is not None:
            self._unique[alias] = taken

    def raise_taken(self) -> None:
        """After a refused commit: the named domain error of a unique claim another stream owns
        (one query, only when there are such claims); nothing otherwise (a plain conflict)."""
        if not self._unique:
            return
        owners = self.store.resolve_many(list(self._unique))
        for alias, taken in self._unique.items():
            owner = owners.get(alias)
            if owner is not None and owner != self._claims[alias]:
                raise taken(owner)

    def commit(self, metadata: Metadata, command: CommandRecord | None) -> int | None:
        appends = []
        for agg in self._seen.values():
            loaded_version = agg.version - len(agg.pending)
            pending = agg.collect()
            if pending:
                appends.append(StreamAppend(
                    stream_id=agg.stream_id, expected_version=loaded_version,
                    events=[NewEvent(e.event_type, e.to_payload(), e.schema_version) for e in pending],
                ))
        if not appends and command is None:
            self._keep(self.observed_position)
            return self.observed_position or None
        if command is not None and not appends:
            command = CommandRecord(**{**command.__dict__, "position": self.observed_position or None})
        result = self.store.append(appends, metadata=metadata, aliases=self._claims, command=command)
        position = result.last_position
        if position is None:
            position = self.observed_position or None
        self._keep(position or 0)
        return position

    def _keep(self, position: int) -> None:
        """After a successful commit only: the aggregates, now at their committed versions."""
        if self.cache is not None:
            for agg in self._seen.values():
                self.cache.give(agg, position)
