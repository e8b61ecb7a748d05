"""Small SQL helpers over the projection bookkeeping tables (checkpoints, state, failures,
dead letters), shared by the runner, the relay, status and the CLI."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from eventstore.records import StoredEvent
from eventstore.schema import event_position, events
from projections.generations import FIRST_GENERATION
from projections.tables import dead_letters, projection_checkpoints, projection_failures, projection_state


def dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    """`INSERT` with the dialect's `ON CONFLICT` support (PostgreSQL and SQLite share it)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def lock_name(conn: sa.Connection, key: str) -> None:
    """Serialise transactions that use the same `key` until this transaction ends.

    PostgreSQL: a transaction-level advisory lock, scoped to the current schema so that
    databases shared by several schemas (tests, tenants) do not block each other.
    SQLite: nothing to do, the caller's transaction began with BEGIN IMMEDIATE
    (eventstore.engine.writer) and already holds the database's only write lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || :key, 0))"),
            {"key": key},
        )


def head_position(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(event_position.c.last)).scalar() or 0)


def read_events(
    conn: sa.Connection, after: int, limit: int | None = None, *, until: int | None = None,
    types: Collection[str] | None = None,
) -> list[StoredEvent]:
    """Events after `after` in position order: at most `limit`, up to `until`, of `types`.

    `types` lets a projection skip, in the database, the events it has no projector for (most
    of the log for most projections); `ix_events_type_position` serves it.
    """
    query = sa.select(events).where(events.c.global_position > after)
    if until is not None:
        query = query.where(events.c.global_position <= until)
    if types is not None:
        query = query.where(events.c.event_type.in_(sorted(types)))
    query = query.order_by(events.c.global_position)
    if limit is not None:
        query = query.limit(limit)
    # The selected columns are StoredEvent's fields in order: positional, no dict per row.
    return [StoredEvent(*row) for row in conn.execute(query)]


def read_event(conn: sa.Connection, position: int) -> StoredEvent | None:
    row = conn.execute(sa.select(events).where(events.c.global_position == position)).first()
    return None if row is None else StoredEvent(**row._asdict())


def recorded_at_after(conn: sa.Connection, position: int) -> datetime | None:
    """When the first event after `position` was recorded (the oldest unprocessed one)."""
    return conn.execute(
        sa.select(events.c.recorded_at).where(events.c.global_position == position + 1)
    ).scalar()


def get_checkpoint(conn: sa.Connection, name: str, generation: int) -> int:
    value = conn.execute(
        sa.select(projection_checkpoints.c.position).where(
            projection_checkpoints.c.name == name, projection_checkpoints.c.generation == generation,
        )
    ).scalar()
    return int(value or 0)


def set_checkpoint(conn: sa.Connection, name: str, generation: int, position: int, now: datetime) -> None:
    """Move the checkpoint forward (never backwards: a stale writer cannot undo progress)."""
    stmt = dialect_insert(conn, projection_checkpoints).values(
        name=name, generation=generation, position=position, updated_at=now,
    )
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["name", "generation"],
        set_={"position": stmt.excluded.position, "updated_at": stmt.excluded.updated_at},
        where=projection_checkpoints.c.position < stmt.excluded.position,
    ))


def get_state(conn: sa.Connection, name: str) -> tuple[int, int | None]:
    """(live generation, building generation or None)."""
    row = conn.execute(
        sa.select(projection_state.c.live_generation, projection_state.c.building_generation)
        .where(projection_state.c.name == name)
    ).first()
    if row is None:
        return FIRST_GENERATION, None
    building = None if row.building_generation is None else int(row.building_generation)
    return int(row.live_generation), building


def set_state(conn: sa.Connection, name: str, live: int, building: int | None, now: datetime) -> None:
    stmt = dialect_insert(conn, projection_state).values(
        name=name, live_generation=live, building_generation=building, updated_at=now,
    )
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"live_generation": live, "building_generation": building, "updated_at": now},
    ))


def parked_streams(conn: sa.Connection, name: str) -> dict[str, int]:
    """stream id -> position of its first parked event, for projection `name`."""
    rows = conn.execute(
        sa.select(dead_letters.c.stream_id, sa.func.min(dead_letters.c.global_position))
        .where(dead_letters.c.name == name).group_by(dead_letters.c.stream_id)
    )
    return {stream_id: int(position) for stream_id, position in rows}


def failures(conn: sa.Connection, name: str) -> dict[int, tuple[int, datetime]]:
    """position -> (failed attempts, time of the last one) for events not parked yet."""
    rows = conn.execute(
        sa.select(projection_failures.c.global_position, projection_failures.c.attempts,
                  projection_failures.c.updated_at).where(projection_failures.c.name == name)
    )
    return {int(p): (int(a), at) for p, a, at in rows}


def record_failure(
    conn: sa.Connection, name: str, position: int, attempts: int, error: str, now: datetime,
) -> None:
    stmt = dialect_insert(conn, projection_failures).values(
        name=name, global_position=position, attempts=attempts, last_error=error, updated_at=now,
    )
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["name", "global_position"],
        set_={"attempts": attempts, "last_error": error, "updated_at": now},
    ))


def clear_failure(conn: sa.Connection, name: str, position: int) -> None:
    conn.execute(projection_failures.delete().where(
        projection_failures.c.name == name, projection_failures.c.global_position == position,
    ))


def park(
    conn: sa.Connection, name: str, event: StoredEvent, *, attempts: int, error: str, now: datetime,
    held_behind: int | None = None,
) -> None:
    stmt = dialect_insert(conn, dead_letters).values(
        name=name, global_position=event.global_position, event_id=event.event_id,
        stream_id=event.stream_id, attempts=attempts, error=error, held_behind=held_behind, parked_at=now,
    )
    # A rebuild meeting an event that the live generation already parked keeps the row.
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["name", "global_position"]))
    clear_failure(conn, name, event.global_position)
