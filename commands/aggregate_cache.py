"""Aggregates as this process's last successful command left them, keyed by stream.

A command on a long stream (a worker with 10,000 versions, a user with 10,000 runs) then reads
only the events appended since, by anyone, instead of replaying the whole stream (issue 11,
`history`). Correct across processes without any invalidation: the cached aggregate carries its
stream version, and the unit of work reads every event after it before deciding.

No two commands ever share a mutable aggregate: the unit of work *takes* an entry (removes it)
when it loads the stream and *gives* it back only after its commit succeeded. An attempt that
fails (a domain error, a conflict, an outage) gives nothing back, so its retry replays from the
store, and no half-decided state can be cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TypeVar

from domain.aggregate import Aggregate

A = TypeVar("A", bound=Aggregate)

#: streams kept; least recently used ones are dropped (a long stream's state is a few MB at most)
DEFAULT_CAPACITY = 2_000


class AggregateCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[Aggregate, int]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, cls: type[A], stream_id: str) -> tuple[A, int] | None:
        """The cached aggregate and the last position it has seen, removed from the cache."""
        with self._lock:
            entry = self._entries.pop(stream_id, None)
        if entry is None or type(entry[0]) is not cls or entry[0].pending:
            return None
        agg, position = entry
        assert isinstance(agg, cls)
        return agg, position

    def give(self, agg: Aggregate, position: int) -> None:
        """Keep `agg`, whose every event is committed, up to `position`."""
        if agg.pending or not agg.exists:
            return
        with self._lock:
            self._entries[agg.stream_id] = (agg, position)
            self._entries.move_to_end(agg.stream_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
