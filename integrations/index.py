"""The subject and visibility index over the event log (tables in integrations/tables.py).

For every event: the ids it is about (`event_subjects`, for audit `?stream=`), the one scope
that decides who may see it (`event_scopes`), and, for events that give someone access, who
may read that scope from then on (`scope_readers`).

Why a separate index, caught up by its readers, rather than rows written in the append
transaction: the append path is the system's single write bottleneck and owned by the event
store; the index is derived, rebuildable data. Every reader (feed, SSE, audit, webhook
dispatcher) calls `catch_up()` before querying, which indexes whatever was appended since
the checkpoint, so readers never see a stale index and need no background worker. Indexing
is idempotent (ON CONFLICT DO NOTHING) and serialised (an advisory lock on PostgreSQL, the
write lock on SQLite), so concurrent readers only wait for each other briefly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from eventstore.engine import writer
from eventstore.records import StoredEvent
from eventstore.schema import event_position, events
from integrations.scopes import scope_of
from integrations.tables import (
    event_scopes,
    event_subjects,
    integration_checkpoints,
    scope_readers,
)
from projections.envelope import recorded

CHECKPOINT = "event_index"
log = logging.getLogger(__name__)
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
    except (ValueError, TypeError):
        # An event type this version does not know (written by a newer one), or a payload that
        # does not decode: visible to its author only, and the index keeps going.
        log.warning("index: event %s (%s) does not decode; scoped to its actor",
                    event.global_position, event.event_type)
        return IndexEntry(_subjects(event, event.payload), event.actor_id)
    # The ids of the decoded, upcast event (its fields, not copied), like every other reader's.
    scope, readers = scope_of(decoded, event.actor_id)
    return IndexEntry(_subjects(event, vars(decoded)), scope, readers)


def _insert_ignore(engine: Engine, table: sa.Table) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def indexed_position(conn: sa.Connection) -> int:
    return (
        conn.execute(
            sa.select(integration_checkpoints.c.position).where(integration_checkpoints.c.name == CHECKPOINT)
        ).scalar()
        or 0
    )


def catch_up(engine: Engine, *, up_to: int | None = None) -> int:
    """Index every event up to `up_to` (default: the head). Returns the indexed position."""
    is_pg = engine.dialect.name == "postgresql"
    while True:
        # A read first: when nothing is new (the common case for pollers) no write lock is
        # taken, so live streams polling on SQLite never contend with appends.
        with engine.connect() as conn:
            done = indexed_position(conn)
            target = (
                up_to if up_to is not None else (conn.execute(sa.select(event_position.c.last)).scalar() or 0)
            )
        if done >= target:
            return done
        with writer(engine).begin() as conn:
            if is_pg:
                # Per schema, like the relay's lock: indexers of other schemas do not wait.
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || :k, 0))"),
                    {"k": ":event_index"},
                )
            done = indexed_position(conn)
            rows = conn.execute(
                sa.select(events)
                .where(events.c.global_position > done)
                .order_by(events.c.global_position)
                .limit(_BATCH)
            ).all()
            if not rows:
                return done
            _write(engine, conn, [StoredEvent(**row._asdict()) for row in rows])
            last = rows[-1].global_position
            conn.execute(_insert_ignore(engine, integration_checkpoints).values(name=CHECKPOINT, position=0))
            conn.execute(
                integration_checkpoints.update()
                .where(integration_checkpoints.c.name == CHECKPOINT)
                .values(position=last)
            )
        if last >= target:
            return last


def _write(engine: Engine, conn: sa.Connection, batch: list[StoredEvent]) -> None:
    subjects: list[dict[str, Any]] = []
    scopes: list[dict[str, Any]] = []
    readers: list[dict[str, Any]] = []
    for event in batch:
        entry = entry_for(event)
        position = event.global_position
        subjects.extend({"subject_id": s, "global_position": position} for s in entry.subjects)
        scopes.append({"global_position": position, "scope_id": entry.scope})
        readers.extend(
            {"scope_id": scope, "user_id": user, "since_position": position} for scope, user in entry.readers
        )
    conn.execute(_insert_ignore(engine, event_subjects), subjects)
    conn.execute(_insert_ignore(engine, event_scopes), scopes)
    if readers:
        # The earliest grant wins: visibility only ever widens forward in time.
        conn.execute(_insert_ignore(engine, scope_readers), readers)
