"""The subject and visibility index over the event log: the `event_index` projection.

For every event: the ids it is about (`event_subjects`, for audit `?stream=`), the one scope
that decides who may see it (`event_scopes`), and, for events that give someone access, who
may read that scope from then on (`scope_readers`). Tables in integrations/tables.py.

An ordinary projection (registered in integrations/all_projections.py): a pure projector
returning row operations, run by projections/runner.py, so it has generations and rebuilds
(`projections rebuild event_index`), lag in `projections status`, /metrics and /readyz,
back-off and parking, and the relay announces it to the workers like the others.

Why not rows written in the append transaction: the append path is the system's single
write bottleneck and owned by the event store; the index is derived, rebuildable data. Why
readers still never see a stale index: every reader (feed, SSE, audit, webhook dispatcher)
calls `catch_up()` before querying, which runs the projection up to the head now, in the
reader's process, through the same runner (its per-projection lock serialises it with the
workers; the operations are idempotent), and bounds its query by the position returned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.events import EventDecodeError
from eventstore.log_consumer import head_position
from eventstore.records import StoredEvent
from integrations.scopes import scope_of
from integrations.tables import INDEX_TABLES
from projections.consistency import projection_positions
from projections.envelope import recorded
from projections.generations import live_generation_of
from projections.ops import Op, Upsert
from projections.registry import Projection
from projections.runner import ProjectionRunner

#: the projection's name: its checkpoint, lock, state, parked events and metrics label
NAME = "event_index"
log = logging.getLogger(__name__)
#: events per batch when a reader runs the index itself (a first reader after a rebuild of a
#: large log: fewer, larger transactions)
_BATCH = 5000


@dataclass(frozen=True)
class IndexEntry:
    subjects: frozenset[str]
    scope: str
    #: (scope id, user id) pairs that may read the scope from this event on
    readers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _stream_object_id(stream_id: str) -> str | None:
    """`worker-<uuid>` -> `<uuid>`; ids are the last 36 characters of entity streams."""
    tail = stream_id[-36:]
    return tail if len(stream_id) > 36 and stream_id[-37] == "-" else None


def _payload_ids(payload: Any) -> Iterable[str]:
    """Every string under a key named `id` or `*_id` (documents name parents, corpora, ...)."""
    pending = [payload]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str) and (key == "id" or key.endswith("_id")) and value:
                    yield value
                elif isinstance(value, dict | list):
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)


def _subjects(event: StoredEvent, fields: Any) -> frozenset[str]:
    subjects = {event.stream_id, *_payload_ids(fields)}
    if (object_id := _stream_object_id(event.stream_id)) is not None:
        subjects.add(object_id)
    if event.worker_run_id:
        subjects.add(event.worker_run_id)
    return frozenset(s for s in subjects if len(s) <= 200)


def entry_for(event: StoredEvent) -> IndexEntry:
    """Pure: what the index records for one event."""
    try:
        decoded = recorded(event).event
    except EventDecodeError as exc:
        # An event type this version does not know (written by a newer one), a schema version
        # with no upcaster, or a payload that does not decode: visible to its author only, and
        # the index keeps going.
        log.warning("index: event %s (%s) does not decode (%s); scoped to its actor",
                    event.global_position, event.event_type, exc)
        return IndexEntry(_subjects(event, event.payload), event.actor_id)
    # The ids of the decoded, upcast event (its fields, not copied), like every other reader's.
    scope, readers = scope_of(decoded, event.actor_id)
    return IndexEntry(_subjects(event, vars(decoded)), scope, readers)


def index_ops(event: StoredEvent) -> list[Op]:
    """Pure: the projector, for every event type (`Projection.default`)."""
    entry = entry_for(event)
    position = event.global_position
    ops: list[Op] = [
        Upsert("event_subjects", {"subject_id": subject, "global_position": position}, {})
        for subject in sorted(entry.subjects)
    ]
    ops.append(Upsert("event_scopes", {"global_position": position}, {"scope_id": entry.scope}))
    # The earliest grant wins: visibility only ever widens forward in time.
    ops.extend(
        Upsert("scope_readers", {"scope_id": scope, "user_id": user}, {"since_position": position},
               first_wins=True)
        for scope, user in entry.readers
    )
    return ops


PROJECTION = Projection(NAME, {}, tuple(t.name for t in INDEX_TABLES), default=index_ops)


def generation() -> sa.ColumnElement[int]:
    """The live generation of the index, for the readers' joins (one snapshot with the rows)."""
    return live_generation_of(NAME)


def catch_up(engine: Engine, *, up_to: int | None = None) -> int:
    """Run the index up to `up_to` (default: the head) now. Returns the indexed position: a
    reader bounds its query by it (below the head only while an event waits for its back-off)."""
    # A read first: when nothing is new (the common case for pollers) no write lock is
    # taken, so live streams polling on SQLite never contend with appends.
    with engine.connect() as conn:
        done = projection_positions(conn, [NAME])[NAME]
        target = head_position(conn) if up_to is None else up_to
    if done >= target:
        return done
    return ProjectionRunner(engine, {NAME: PROJECTION}, batch_size=_BATCH).catch_up(NAME, target).checkpoint
