"""`SqlEventStore`: append, read a stream, read all after a position, head, aliases, command log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.engine import writer
from eventstore.ports import in_batches
from eventstore.records import (
    AppendResult,
    CommandRecord,
    ConcurrencyConflict,
    Metadata,
    StoredEvent,
    StreamAppend,
)
from eventstore.schema import command_log, event_position, events, stream_aliases

NOTIFY_CHANNEL = "worker_runs_events"


def _now() -> datetime:
    return datetime.now(UTC)


class SqlEventStore:
    """One implementation for PostgreSQL and SQLite; the differences are noted inline."""

    def __init__(self, engine: Engine, *, lock_timeout_ms: int = 3000) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self.is_postgres = engine.dialect.name == "postgresql"
        self.lock_timeout_ms = lock_timeout_ms

    # --- writing ------------------------------------------------------------------------------

    def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
        aliases: Mapping[str, str] | None = None,
        command: CommandRecord | None = None,
    ) -> AppendResult:
        """Append events to one or more streams atomically.

        Raises `ConcurrencyConflict` when a stream is not at its expected version, an alias
        is already claimed, or the command id was recorded meanwhile: the caller reloads and
        decides again. Returns the first and last global positions written.
        """
        count = sum(len(a.events) for a in appends)
        try:
            with self._writer.begin() as conn:
                if self.is_postgres:
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(self.lock_timeout_ms)}ms'")
                if command is not None:
                    # First, so that a concurrent duplicate of this command waits here on the
                    # primary key and then fails, before it touches the position counter.
                    conn.execute(command_log.insert().values(
                        command_id=command.command_id, command_type=command.command_type,
                        request_hash=command.request_hash, created_at=_now(),
                    ))
                if aliases:
                    conn.execute(stream_aliases.insert(), [
                        {"alias": alias, "stream_id": stream_id} for alias, stream_id in aliases.items()
                    ])
                self._check_versions(conn, appends)
                first = last = None
                if count:
                    # Taken last: the row lock is held until commit, so positions are
                    # handed out in commit order and a reader never skips one.
                    last = conn.execute(
                        event_position.update().where(event_position.c.id == 1)
                        .values(last=event_position.c.last + count).returning(event_position.c.last)
                    ).scalar_one()
                    first = last - count + 1
                    conn.execute(events.insert(), self._rows(appends, metadata, first))
                if command is not None:
                    position = last if last is not None else command.position
                    conn.execute(
                        command_log.update().where(command_log.c.command_id == command.command_id)
                        .values(response=command.response, position=position)
                    )
                if count and self.is_postgres:
                    conn.execute(sa.text("SELECT pg_notify(:c, :p)"), {"c": NOTIFY_CHANNEL, "p": str(last)})
        except sa.exc.IntegrityError as exc:
            raise ConcurrencyConflict(str(exc.orig)) from exc
        except sa.exc.OperationalError as exc:
            # lock_timeout (PostgreSQL) or a busy database (SQLite): retryable like a conflict.
            if "lock" in str(exc.orig).lower():
                raise ConcurrencyConflict(str(exc.orig)) from exc
            raise
        return AppendResult(first, last)

    def _check_versions(self, conn: sa.Connection, appends: Sequence[StreamAppend]) -> None:
        # A cheap early answer; the UNIQUE(stream_id, stream_version) constraint is the guard.
        # One grouped query per 500 streams, not one per stream: a bulk command appending to
        # thousands of element streams would otherwise spend most of its time here.
        expected = {a.stream_id: a.expected_version for a in appends}
        ids = list(expected)
        current: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                sa.select(events.c.stream_id, sa.func.max(events.c.stream_version))
                .where(events.c.stream_id.in_(ids[start:start + 500]))
                .group_by(events.c.stream_id)
            )
            current.update((stream_id, version) for stream_id, version in rows)
        for stream_id, version in expected.items():
            if current.get(stream_id, 0) != version:
                raise ConcurrencyConflict(
                    f"stream {stream_id} is at version {current.get(stream_id, 0)}, expected {version}"
                )

    @staticmethod
    def _rows(appends: Sequence[StreamAppend], md: Metadata, first: int) -> list[dict[str, Any]]:
        rows = []
        position = first
        recorded_at = _now()
        for a in appends:
            for offset, event in enumerate(a.events, start=1):
                # Deterministic ids for commands with an id: a replayed append collides on
                # event_id UNIQUE as a last line of defence.
                event_id = (
                    uuid.uuid5(uuid.UUID(int=0), f"{md.command_id}/{a.stream_id}/{offset}")
                    if md.command_id else uuid.uuid4()
                )
                rows.append({
                    "global_position": position,
                    "stream_id": a.stream_id,
                    "stream_version": a.expected_version + offset,
                    "event_id": str(event_id),
                    "event_type": event.event_type,
                    "schema_version": event.schema_version,
                    "payload": event.payload,
                    "occurred_at": md.occurred_at,
                    "recorded_at": recorded_at,
                    "actor_type": md.actor_type,
                    "actor_id": md.actor_id,
                    "correlation_id": md.correlation_id,
                    "causation_id": md.causation_id,
                    "command_id": md.command_id,
                    "worker_run_id": md.worker_run_id,
                })
                position += 1
        return rows

    # --- reading ------------------------------------------------------------------------------

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        query = (
            sa.select(events)
            .where(events.c.stream_id == stream_id, events.c.stream_version > after_version)
            .order_by(events.c.stream_version)
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Several streams in one query (bulk commands load a whole batch of aggregates):
        stream id -> its events in version order; streams without events map to []."""
        result: dict[str, list[StoredEvent]] = {stream_id: [] for stream_id in stream_ids}
        ids = list(result)
        with self.engine.connect() as conn:
            # Chunked: SQLite limits the number of bound parameters of one statement.
            for start in range(0, len(ids), 500):
                query = (
                    sa.select(events)
                    .where(events.c.stream_id.in_(ids[start:start + 500]))
                    .order_by(events.c.stream_id, events.c.stream_version)
                )
                for row in conn.execute(query):
                    result[row.stream_id].append(_stored(row))
        return result

    def read_all(
        self, after: int = 0, limit: int = 1000, *, types: Sequence[str] | None = None,
        until: int | None = None,
    ) -> list[StoredEvent]:
        """Events with `position > after` in position order, at most `limit` of them."""
        query = sa.select(events).where(events.c.global_position > after)
        if types:
            query = query.where(events.c.event_type.in_(list(types)))
        if until is not None:
            query = query.where(events.c.global_position <= until)
        query = query.order_by(events.c.global_position).limit(limit)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def iter_all(self, after: int = 0, batch_size: int = 1000) -> Iterator[StoredEvent]:
        """Every event after `after`, read in batches (constant memory)."""
        return in_batches(self.read_all, after, batch_size)

    def head(self) -> int:
        """The position of the last committed event (0 when empty)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(event_position.c.last)).scalar() or 0

    def resolve(self, alias: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(stream_aliases.c.stream_id).where(stream_aliases.c.alias == alias)
            ).scalar()

    def get_command(self, command_id: str) -> CommandRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(command_log).where(command_log.c.command_id == command_id)).first()
        if row is None:
            return None
        return CommandRecord(
            command_id=row.command_id, command_type=row.command_type, request_hash=row.request_hash,
            response=row.response or {}, position=row.position,
        )


def _stored(row: sa.Row[Any]) -> StoredEvent:
    return StoredEvent(**row._asdict())
