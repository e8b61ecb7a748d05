"""`SqlEventStore`: append, read a stream, read all after a position, head, aliases, command log."""

from __future__ import annotations

import functools
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.commit_outcome import committed
from eventstore.engine import writer
from eventstore.group_commit import GroupCommit, Member
from eventstore.listeners import AppendListener, AppendListeners
from eventstore.log_consumer import head_position
from eventstore.outage import is_db_unavailable
from eventstore.pg_append import append_params, append_sql
from eventstore.ports import in_batches
from eventstore.records import (
    AppendResult,
    CommandRecord,
    ConcurrencyConflict,
    Metadata,
    StoredEvent,
    StreamAppend,
)
from eventstore.schema import command_log, events, stream_aliases
from eventstore.sqlite_fast import mapped as sqlite_error
from eventstore.sqlite_fast import read_stream as sqlite_read_stream
from eventstore.sqlite_fast import resolve as sqlite_resolve
from eventstore.sqlite_fast import write_group as sqlite_write_group

if TYPE_CHECKING:
    # psycopg is the `postgres` extra: the embedded default (SQLite) runs without it.
    import psycopg

T = TypeVar("T")

#: SQLSTATE of a lock wait that reached lock_timeout: retried like a conflict
_LOCK_NOT_AVAILABLE = "55P03"
#: SQLSTATE of the NULL the PostgreSQL append writes when a stream is behind its expected version
_NOT_NULL_VIOLATION = "23502"
#: event ids of appends without a command id: uuid5(this, "<causation id>/<stream>/<version>")
_CAUSATION_NAMESPACE = uuid.UUID("5d1b7e0a-3c55-4f0e-8f59-6a2b1c9d7e41")


def _now() -> datetime:
    return datetime.now(UTC)


class SqlEventStore:
    """One implementation for PostgreSQL and SQLite; the differences are noted inline."""

    def __init__(self, engine: Engine, *, lock_timeout_ms: int = 3000) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self.is_postgres = engine.dialect.name == "postgresql"
        # Reads are single statements (or chunks that each stand alone): on PostgreSQL they
        # need no BEGIN and ROLLBACK around them, two of the three round trips of a read.
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT") if self.is_postgres else engine
        self.lock_timeout_ms = lock_timeout_ms
        self._listeners = AppendListeners()
        self._group_commit = GroupCommit(
            self._commit_group if self.is_postgres else self._commit_group_sqlite)

    # --- writing ------------------------------------------------------------------------------

    def add_append_listener(self, listener: AppendListener) -> None:
        """Call `listener` (a bound method, held weakly) after each append of this process commits."""
        self._listeners.add(listener)

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
        result = self._append(appends, metadata=metadata, aliases=aliases, command=command)
        self._listeners.notify(appends)
        return result

    def _append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
        aliases: Mapping[str, str] | None,
        command: CommandRecord | None,
    ) -> AppendResult:
        if self.is_postgres:
            return self._append_postgres(appends, metadata, aliases, command)
        return self._append_sqlite(appends, metadata, aliases, command)

    def _append_postgres(
        self, appends: Sequence[StreamAppend], metadata: Metadata,
        aliases: Mapping[str, str] | None, command: CommandRecord | None,
    ) -> AppendResult:
        """The whole append as one statement (eventstore/pg_append.py), committed in a group
        with the appends other threads of this process send meanwhile (eventstore/group_commit.py)."""
        if not appends and not aliases and command is None:
            return AppendResult(None, None)
        now = _now()
        rows = self._rows(appends, metadata, 0, recorded_at=now)
        member = Member(
            sql=append_sql(claims=bool(aliases), command=command is not None, events=bool(rows)),
            params=append_params(appends, rows, metadata, aliases, command, now=now,
                                 lock_timeout_ms=self.lock_timeout_ms),
            keys=frozenset([*(f"stream:{a.stream_id}" for a in appends),
                            *(f"alias:{alias}" for alias in aliases or ()),
                            *([f"command:{command.command_id}"] if command is not None else [])]),
            written=((rows[0]["event_id"], None) if rows
                     else (None, command.command_id) if command is not None else None),
        )
        answer = self._group_commit.submit(member)
        if not rows:
            return AppendResult(None, None)
        return AppendResult(answer - len(rows) + 1, answer)

    def _append_sqlite(
        self, appends: Sequence[StreamAppend], metadata: Metadata,
        aliases: Mapping[str, str] | None, command: CommandRecord | None,
    ) -> AppendResult:
        """The append's statements sent through `sqlite3` directly and
        committed in a group (eventstore/sqlite_fast.py): SQLAlchemy's per-statement work was
        most of a command on the embedded default."""
        now = _now()
        rows = self._rows(appends, metadata, 1, recorded_at=now)
        member = Member(
            sql="sqlite", params={"appends": appends, "rows": rows, "aliases": aliases, "command": command,
                                  "now": now},
            keys=frozenset([*(f"stream:{a.stream_id}" for a in appends),
                            *(f"alias:{alias}" for alias in aliases or ()),
                            *([f"command:{command.command_id}"] if command is not None else [])]),
            written=((rows[0]["event_id"], None) if rows
                     else (None, command.command_id) if command is not None else None),
        )
        first, last = self._group_commit.submit(member)
        return AppendResult(first, last)

    def _commit_group_sqlite(self, members: Sequence[Member]) -> None:
        """One IMMEDIATE transaction for the members' appends, a savepoint each
        (eventstore/sqlite_fast.py); settles every member."""
        done: list[tuple[Member, Any]] = []
        try:
            with self._writer.begin() as conn:
                driver = conn.connection.driver_connection
                assert isinstance(driver, sqlite3.Connection)
                done = sqlite_write_group(driver, members)
        except sqlite3.Error as exc:  # a statement: rolled back, nothing applied
            _fail_all([m for m in members if m.error is None], sqlite_error(exc))
            return
        except sa.exc.DBAPIError as exc:  # BEGIN or COMMIT
            error = self._sqlite_group_error(exc, done)
            if error is not None:
                _fail_all([m for m in members if m.error is None], error)
                return
        for m, answer in done:
            m.succeed(answer)

    def _sqlite_group_error(self, exc: sa.exc.DBAPIError,
                            done: list[tuple[Member, Any]]) -> BaseException | None:
        """What the members of a group whose BEGIN or COMMIT failed get: None when the COMMIT
        was applied anyway (looked up by the id recorded with it)."""
        if isinstance(exc, sa.exc.OperationalError) and "lock" in str(exc.orig).lower():
            return ConcurrencyConflict(str(exc.orig))  # busy beyond the timeout: retryable
        if not done:
            return exc
        written = next((m.written for m, _ in done if m.written is not None), None)
        try:
            return None if self._applied_anyway(exc, written) else exc
        except Exception as unknown:  # CommitOutcomeUnknown: the same for every member
            return unknown

    def _commit_group(self, members: Sequence[Member]) -> None:
        """One transaction for the members' statements; settles every member. A member whose
        statement fails is answered with its conflict, and the others are sent again."""
        remaining = list(members)
        reconnected = False
        while remaining:
            answers: list[Any] = []
            sent = False
            try:
                with self._writer.begin() as conn:
                    answers = _send_pipelined(conn, remaining)
                    # Every statement succeeded: only COMMIT is left, whose outcome can be unknown.
                    sent = True
            except _Refused as refused:
                refused.member.fail(refused.conflict)
                remaining.remove(refused.member)
                continue
            except sa.exc.DBAPIError as exc:
                if sent:
                    written = next((m.written for m in remaining if m.written is not None), None)
                    try:
                        applied = self._applied_anyway(exc, written)
                    except Exception as unknown:  # CommitOutcomeUnknown: the same for every member
                        _fail_all(remaining, unknown)
                        return
                    if not applied:
                        _fail_all(remaining, exc)
                        return
                # Before COMMIT nothing can have been applied. A pooled connection the server
                # closed (it restarted since) is found out here rather than by a ping on every
                # checkout: the pool is invalidated, and the group is sent once more.
                elif exc.connection_invalidated and not reconnected:
                    reconnected = True
                    continue
                else:
                    _fail_all(remaining, exc)
                    return
            except Exception as exc:
                _fail_all(remaining, exc)
                return
            for m, answer in zip(remaining, answers, strict=True):
                m.succeed(answer)
            return

    def _applied_anyway(self, exc: sa.exc.DBAPIError, written: tuple[str | None, str | None] | None) -> bool:
        """The connection died once the append was sent: was its COMMIT applied? (Looked up
        by the id recorded in the same transaction: eventstore/commit_outcome.py.)"""
        if written is None or not is_db_unavailable(exc):
            return False
        return committed(self.engine, event_id=written[0], command_id=written[1])

    @staticmethod
    def _rows(appends: Sequence[StreamAppend], md: Metadata, first: int,
              recorded_at: datetime | None = None) -> list[dict[str, Any]]:
        rows = []
        position = first
        recorded_at = recorded_at or _now()
        for a in appends:
            for offset, event in enumerate(a.events, start=1):
                # Deterministic ids for commands with an id: a replayed append collides on
                # event_id UNIQUE as a last line of defence. Without one, derived from the
                # causation id and the stream version (unique by construction): the id an
                # append whose COMMIT outcome is unknown looks itself up by.
                event_id = (
                    uuid.uuid5(uuid.UUID(int=0), f"{md.command_id}/{a.stream_id}/{offset}")
                    if md.command_id
                    else uuid.uuid5(_CAUSATION_NAMESPACE,
                                    f"{md.causation_id}/{a.stream_id}/{a.expected_version + offset}")
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

    def _read(self, read: Callable[[sa.Connection], T]) -> T:
        """Run `read` on a pooled connection. A connection the server closed since it was
        pooled (PostgreSQL restarted) is found out by the read that uses it, not by a ping
        on every checkout: SQLAlchemy then invalidates the pool, and the read runs once more."""
        try:
            with self._reader.connect() as conn:
                return read(conn)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        with self._reader.connect() as conn:
            return read(conn)

    def _read_sqlite(self, read: Callable[[Any], T]) -> T:
        """`read` on the driver's connection of a pooled SQLite connection: one statement, its
        own implicit transaction (autocommit mode, eventstore/engine.py)."""
        raw = self.engine.raw_connection()
        try:
            return read(raw.driver_connection)
        finally:
            raw.close()

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        if not self.is_postgres:
            return self._read_sqlite(lambda conn: sqlite_read_stream(conn, stream_id, after_version))
        query = (
            sa.select(events)
            .where(events.c.stream_id == stream_id, events.c.stream_version > after_version)
            .order_by(events.c.stream_version)
        )
        return self._read(lambda conn: [_stored(row) for row in conn.execute(query)])

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Several streams in one query (bulk commands load a whole batch of aggregates):
        stream id -> its events in version order; streams without events map to []."""
        ids = list(dict.fromkeys(stream_ids))

        def read(conn: sa.Connection) -> dict[str, list[StoredEvent]]:
            result: dict[str, list[StoredEvent]] = {stream_id: [] for stream_id in ids}
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

        return self._read(read)

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
        return self._read(lambda conn: [_stored(row) for row in conn.execute(query)])

    def iter_all(self, after: int = 0, batch_size: int = 1000) -> Iterator[StoredEvent]:
        """Every event after `after`, read in batches (constant memory)."""
        return in_batches(self.read_all, after, batch_size)

    def head(self) -> int:
        """The position of the last committed event (0 when empty)."""
        return self._read(head_position)

    def resolve(self, alias: str) -> str | None:
        if not self.is_postgres:
            return self._read_sqlite(lambda conn: sqlite_resolve(conn, alias))
        query = sa.select(stream_aliases.c.stream_id).where(stream_aliases.c.alias == alias)
        return self._read(lambda conn: conn.execute(query).scalar())

    def read_aliased(self, alias: str, max_events: int) -> tuple[str, list[StoredEvent] | None] | None:
        """On PostgreSQL one round trip instead of two (issue 11: CreateUserRun finds its worker
        by the version's alias). SQLite has no round trips to save: the stream only, to be read
        by version (a cached aggregate then folds only what is new)."""
        if not self.is_postgres:
            stream_id = self.resolve(alias)
            return None if stream_id is None else (stream_id, None)

        def read(conn: sa.Connection) -> tuple[str, list[StoredEvent] | None] | None:
            rows = conn.execute(_READ_ALIASED, {"alias": alias, "max_events": max_events}).all()
            if not rows:
                return None
            if rows[0].global_position is None:  # more than max_events (a stream has >= 1)
                return rows[0].owner, None
            return rows[0].owner, [_event_of(row) for row in rows]

        return self._read(read)

    def read_aliased_with(
        self, alias: str, max_events: int, streams: Mapping[str, int],
    ) -> tuple[tuple[str, list[StoredEvent] | None] | None, dict[str, list[StoredEvent]]]:
        """On PostgreSQL `read_aliased` and the named streams' new events in one statement (a
        UNION ALL: one round trip instead of two; issue 11, CreateUserRun). SQLite has no round
        trips to save: `read_aliased`, then `read_stream` per stream."""
        if not self.is_postgres or not streams:
            return (self.read_aliased(alias, max_events),
                    {stream_id: self.read_stream(stream_id, after) for stream_id, after in streams.items()})
        query = _read_aliased_with(len(streams))
        params: dict[str, Any] = {"alias": alias, "max_events": max_events}
        for n, (stream_id, after) in enumerate(streams.items()):
            params[f"stream_{n}"], params[f"after_{n}"] = stream_id, after

        def read(conn: sa.Connection) -> tuple[tuple[str, list[StoredEvent] | None] | None,
                                               dict[str, list[StoredEvent]]]:
            aliased: tuple[str, list[StoredEvent] | None] | None = None
            found: dict[str, list[StoredEvent]] = {stream_id: [] for stream_id in streams}
            for row in conn.execute(query, params):
                if row.part == 0:
                    if aliased is None:  # the first row names the stream; NULL events: a long one
                        aliased = (row.owner, None if row.global_position is None else [])
                    if aliased[1] is not None:
                        aliased[1].append(_event_of(row))
                else:
                    found[row.stream_id].append(_event_of(row))
            return aliased, found

        return self._read(read)

    def resolve_many(self, aliases: Sequence[str]) -> dict[str, str]:
        """The claimed ones among `aliases` -> their streams, one query per 500 (a bulk command
        looks up thousands: CreateElementTranscriptions' children by polygon)."""
        wanted = list(dict.fromkeys(aliases))

        def read(conn: sa.Connection) -> dict[str, str]:
            found: dict[str, str] = {}
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    sa.select(stream_aliases.c.alias, stream_aliases.c.stream_id)
                    .where(stream_aliases.c.alias.in_(wanted[start:start + 500]))
                )
                found.update({row.alias: row.stream_id for row in rows})
            return found

        return self._read(read)

    def get_command(self, command_id: str) -> CommandRecord | None:
        query = sa.select(command_log).where(command_log.c.command_id == command_id)
        row = self._read(lambda conn: conn.execute(query).first())
        if row is None:
            return None
        return CommandRecord(
            command_id=row.command_id, command_type=row.command_type, request_hash=row.request_hash,
            response=row.response or {}, position=row.position,
        )


#: an alias's stream and, unless it has more than :max_events, its events. The stream's length
#: is taken once (LATERAL: the last entry of the (stream_id, stream_version) index) and decides
#: the key the events are looked up by: NULL for a long stream, whose events are then not read.
_latest = events.alias("latest")
_length = (sa.select(sa.func.max(_latest.c.stream_version).label("n"))
           .where(_latest.c.stream_id == stream_aliases.c.stream_id).lateral("length"))
_ALIASED_PART = (
    sa.select(sa.literal_column("0").label("part"), stream_aliases.c.stream_id.label("owner"), events)
    .select_from(stream_aliases.join(_length, sa.true()).outerjoin(events, events.c.stream_id == sa.case(
        (_length.c.n <= sa.bindparam("max_events"), stream_aliases.c.stream_id))))
    .where(stream_aliases.c.alias == sa.bindparam("alias"))
)
_READ_ALIASED = _ALIASED_PART.order_by(events.c.stream_version)


@functools.cache
def _read_aliased_with(streams: int) -> sa.CompoundSelect[Any]:
    """`_ALIASED_PART` (part 0), then the events of `streams` streams after a version each
    (part 1; bound as stream_<n>, after_<n>): built once per number of streams."""
    named = sa.select(sa.literal_column("1").label("part"),
                      sa.cast(sa.null(), stream_aliases.c.stream_id.type).label("owner"), events).where(
        sa.or_(*(sa.and_(events.c.stream_id == sa.bindparam(f"stream_{n}"),
                         events.c.stream_version > sa.bindparam(f"after_{n}"))
                 for n in range(streams))))
    union = sa.union_all(_ALIASED_PART, named)
    return union.order_by(union.selected_columns.part, union.selected_columns.stream_id,
                          union.selected_columns.stream_version)


def _conflict(exc: psycopg.Error) -> ConcurrencyConflict:
    if exc.sqlstate == _NOT_NULL_VIOLATION:
        return ConcurrencyConflict("a stream is not at its expected version")
    return ConcurrencyConflict(str(exc))


class _Refused(Exception):
    """One member of a group was refused (a conflict): the transaction is rolled back."""

    def __init__(self, member: Member, conflict: ConcurrencyConflict) -> None:
        super().__init__(str(conflict))
        self.member, self.conflict = member, conflict


def _send_pipelined(conn: sa.Connection, members: Sequence[Member]) -> list[Any]:
    """Each member's statement, sent with psycopg's pipeline mode: BEGIN and every statement
    of the group in one round trip. Their answers, in order; `_Refused` for a member refused
    by a constraint or a lock timeout; other errors as SQLAlchemy's, like any statement's."""
    import psycopg  # only PostgreSQL engines group their commits

    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    cursors = [raw.cursor() for _ in members]
    try:
        with raw.pipeline():
            for cursor, m in zip(cursors, members, strict=True):
                cursor.execute(m.sql, m.params)
    except psycopg.Error as exc:
        # The first error stops the pipeline: its statement, and those after it, have no result.
        failed = next((m for c, m in zip(cursors, members, strict=True) if c.pgresult is None), None)
        if failed is not None and exc.sqlstate is not None and (
                exc.sqlstate.startswith("23") or exc.sqlstate == _LOCK_NOT_AVAILABLE):
            raise _Refused(failed, _conflict(exc)) from exc
        if raw.broken or raw.closed:
            # Lost connection: a statement through SQLAlchemy raises its own disconnect error,
            # which invalidates the pool as after any statement.
            conn.exec_driver_sql("SELECT 1")
        raise sa.exc.DBAPIError.instance(None, None, exc, psycopg.Error, hide_parameters=True) from exc
    rows = [cursor.fetchone() for cursor in cursors]
    return [row[0] if row is not None else None for row in rows]


def _fail_all(members: Sequence[Member], error: BaseException) -> None:
    for m in members:
        m.fail(error)


def _stored(row: sa.Row[Any]) -> StoredEvent:
    return StoredEvent(**row._asdict())


_EVENT_COLUMNS = tuple(events.c.keys())


def _event_of(row: sa.Row[Any]) -> StoredEvent:
    """The event of a row that has other columns too (`owner`, `part`)."""
    mapping = row._mapping
    return StoredEvent(**{name: mapping[name] for name in _EVENT_COLUMNS})
