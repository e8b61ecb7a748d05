"""The SQLite append and single-statement reads on the driver's connection (issue 11, `sqlite`).

SQLite runs in this process: a statement costs microseconds, and SQLAlchemy Core's per-statement
work (cache key, compiled-parameter processing, result wrapping, the BEGIN event) cost about ten
times the statement itself — most of a command on the embedded default (profiled: 7 statements
of Core per append). Here the same statements are fixed SQL text sent through `sqlite3`, with the
column types' conversions done by hand exactly as the SQLAlchemy types of eventstore/schema.py do
them (`UTCDateTime`: naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`; `JSON`: `json.dumps`), so rows
written either way read the same.

An append is the steps of the PostgreSQL one-statement append (eventstore/pg_append.py) as
statements: the command-log row, the alias claims, the version check, the position counter (under
the write lock: positions in commit order), the events, the command's response — in a BEGIN
IMMEDIATE transaction (the write lock first) shared with the appends other threads of this process
queued meanwhile (group commit, as on PostgreSQL; each in a savepoint). A constraint violation is a
`ConcurrencyConflict`; so is the lock still busy after the busy timeout, as before. Threads of one
process thus also stop competing for SQLite's lock (its busy handler sleeps milliseconds).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from eventstore.group_commit import Member
from eventstore.records import CommandRecord, ConcurrencyConflict, StoredEvent, StreamAppend

_EVENT_COLUMNS = (
    "global_position, stream_id, stream_version, event_id, event_type, schema_version, payload, "
    "occurred_at, recorded_at, actor_type, actor_id, correlation_id, causation_id, command_id, worker_run_id"
)
_INSERT_EVENT = f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 15)})"
_INSERT_COMMAND = (
    "INSERT INTO command_log (command_id, command_type, request_hash, created_at) VALUES (?, ?, ?, ?)"
)
_RECORD_RESPONSE = "UPDATE command_log SET response = ?, position = ? WHERE command_id = ?"
_INSERT_ALIAS = "INSERT INTO stream_aliases (alias, stream_id) VALUES (?, ?)"
_HAS_VERSION = "SELECT 1 FROM events WHERE stream_id = ? AND stream_version = ?"
_TAKE_POSITIONS = "UPDATE event_position SET last = last + ? WHERE id = 1 RETURNING last"
_READ_STREAM = (
    f"SELECT {_EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version > ? ORDER BY stream_version"
)
_RESOLVE = "SELECT stream_id FROM stream_aliases WHERE alias = ?"


def utc_text(value: datetime) -> str:
    """`UTCDateTime`'s SQLite storage: naive UTC, SQLAlchemy's DATETIME text format."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the event store")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(
    cur: sqlite3.Cursor, appends: Sequence[StreamAppend], rows: list[dict[str, Any]],
    aliases: Mapping[str, str] | None, command: CommandRecord | None, now: datetime,
) -> tuple[int | None, int | None]:
    """One append's statements, inside the caller's IMMEDIATE transaction; `rows` as the store
    builds them, with positions from 1 (offset here). Its first and last position."""
    count = len(rows)
    if command is not None:
        cur.execute(_INSERT_COMMAND, (command.command_id, command.command_type, command.request_hash,
                                      utc_text(now)))
    if aliases:
        cur.executemany(_INSERT_ALIAS, list(aliases.items()))
    for a in appends:
        # Version 0: UNIQUE(stream_id, stream_version) refuses a stream that exists. Above
        # it, the stream must have that very version (UNIQUE refuses one already past it).
        if a.expected_version > 0 and cur.execute(
                _HAS_VERSION, (a.stream_id, a.expected_version)).fetchone() is None:
            raise ConcurrencyConflict(f"stream {a.stream_id} is not at version {a.expected_version}")
    first = last = None
    if count:
        last = cur.execute(_TAKE_POSITIONS, (count,)).fetchone()[0]
        first = last - count + 1
        cur.executemany(_INSERT_EVENT, [
            (first - 1 + r["global_position"], r["stream_id"], r["stream_version"], r["event_id"],
             r["event_type"], r["schema_version"], json.dumps(r["payload"]), utc_text(r["occurred_at"]),
             utc_text(r["recorded_at"]), r["actor_type"], r["actor_id"], r["correlation_id"],
             r["causation_id"], r["command_id"], r["worker_run_id"])
            for r in rows
        ])
    if command is not None:
        position = last if last is not None else command.position
        cur.execute(_RECORD_RESPONSE, (json.dumps(command.response), position, command.command_id))
    return first, last


def write_group(conn: sqlite3.Connection, members: Sequence[Member]) -> list[tuple[Member, Any]]:
    """The members' appends (`Member.params`: the arguments of `write`) inside the caller's
    IMMEDIATE transaction, each in a savepoint: a member refused by a constraint is rolled back
    alone and answered with its conflict here. The others and their (first, last) positions, to
    settle once COMMIT succeeded. Another SQLite error is raised: the whole group failed."""
    done: list[tuple[Member, Any]] = []
    cur = conn.cursor()
    try:
        for m in members:
            cur.execute("SAVEPOINT member")
            try:
                answer = write(cur, **m.params)
            except (ConcurrencyConflict, sqlite3.IntegrityError) as exc:
                cur.execute("ROLLBACK TO member")
                m.fail(exc if isinstance(exc, ConcurrencyConflict) else ConcurrencyConflict(str(exc)))
            else:
                done.append((m, answer))
            cur.execute("RELEASE member")
    finally:
        cur.close()
    return done


def mapped(exc: sqlite3.Error) -> Exception:
    """The error members of a group that failed with `exc` get."""
    if isinstance(exc, sqlite3.OperationalError) and "lock" in str(exc).lower():
        # The write lock still busy after the busy timeout: retryable like a conflict.
        return ConcurrencyConflict(str(exc))
    # As SQLAlchemy would have raised it (outage detection, the API's 503).
    return sa.exc.DBAPIError.instance(None, None, exc, sqlite3.Error, hide_parameters=True)


def _stored(row: tuple[Any, ...]) -> StoredEvent:
    return StoredEvent(
        global_position=row[0], stream_id=row[1], stream_version=row[2], event_id=row[3], event_type=row[4],
        schema_version=row[5], payload=json.loads(row[6]), occurred_at=_utc(row[7]), recorded_at=_utc(row[8]),
        actor_type=row[9], actor_id=row[10], correlation_id=row[11], causation_id=row[12], command_id=row[13],
        worker_run_id=row[14],
    )


def read_stream(conn: sqlite3.Connection, stream_id: str, after_version: int) -> list[StoredEvent]:
    return [_stored(row) for row in conn.execute(_READ_STREAM, (stream_id, after_version))]


def resolve(conn: sqlite3.Connection, alias: str) -> str | None:
    row = conn.execute(_RESOLVE, (alias,)).fetchone()
    return None if row is None else str(row[0])
