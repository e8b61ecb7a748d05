"""The event-store contract, run unchanged in memory, on SQLite and on PostgreSQL.

Anything the command bus, the projections or the relay rely on is pinned here: optimistic
concurrency, atomic multi-stream appends, gap-free commit-ordered positions, the read API,
metadata columns, aliases, the command log and the database-enforced append-only rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore import (
    NO_STREAM,
    CommandRecord,
    ConcurrencyConflict,
    EventStore,
    InMemoryEventStore,
    Metadata,
    NewEvent,
    SqlEventStore,
    StoredEvent,
    StreamAppend,
)
from eventstore.engine import make_engine
from eventstore.migrate import current_revision, head_revision, upgrade
from eventstore.schema import command_log, event_position, events, stream_aliases
from tests.conftest import PostgresSchema


def meta(command_id: str | None = None, actor_id: str = "u-1") -> Metadata:
    return Metadata(
        actor_type="user", actor_id=actor_id, correlation_id=f"corr-{uuid.uuid4().hex[:8]}",
        causation_id=f"cause-{uuid.uuid4().hex[:8]}", occurred_at=datetime.now(UTC), command_id=command_id,
    )


def ev(n: int, event_type: str = "Thing") -> NewEvent:
    return NewEvent(event_type, {"n": n, "nested": {"list": [1, "two", None]}})


def put(store: EventStore, stream: str, expected: int, *payloads: int, event_type: str = "Thing") -> None:
    store.append([StreamAppend(stream, expected, [ev(n, event_type) for n in payloads])], metadata=meta())


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """Every store: in memory, on SQLite and on PostgreSQL."""
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    schema = PostgresSchema() if request.param == "postgres" else None
    engine = schema.engine() if schema else make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield SqlEventStore(engine)
    engine.dispose()
    if schema:
        schema.drop()


@pytest.fixture
def sql_store(engine: Engine) -> SqlEventStore:
    """The checks made on the tables themselves (what the database enforces)."""
    return SqlEventStore(engine)


def count_rows(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# --- appending ---------------------------------------------------------------------------------


def test_append_to_a_new_stream_with_expected_version_zero(store: EventStore) -> None:
    result = store.append([StreamAppend("s-1", NO_STREAM, [ev(1), ev(2)])], metadata=meta())

    assert (result.first_position, result.last_position) == (1, 2)
    stored = store.read_stream("s-1")
    assert [(e.stream_version, e.payload["n"]) for e in stored] == [(1, 1), (2, 2)]
    assert stored[0].payload == {"n": 1, "nested": {"list": [1, "two", None]}}


@pytest.mark.parametrize("expected", [0, 1, 3])
def test_append_at_a_wrong_expected_version_conflicts(store: EventStore, expected: int) -> None:
    put(store, "s-1", 0, 1, 2)  # the stream is at version 2

    with pytest.raises(ConcurrencyConflict):
        store.append([StreamAppend("s-1", expected, [ev(3)])], metadata=meta())

    assert [e.stream_version for e in store.read_stream("s-1")] == [1, 2]
    assert store.head() == 2


def test_an_append_without_events_is_refused_before_it_reaches_a_store(store: EventStore) -> None:
    with pytest.raises(ValueError, match="at least one event"):
        store.append([StreamAppend("s-1", 0, [])], metadata=meta())
    assert store.head() == 0


def test_append_to_a_missing_stream_at_a_nonzero_version_conflicts(store: EventStore) -> None:
    with pytest.raises(ConcurrencyConflict):
        store.append([StreamAppend("nowhere", 1, [ev(1)])], metadata=meta())
    assert store.read_stream("nowhere") == []


def test_multi_stream_append_is_atomic(store: EventStore) -> None:
    put(store, "a", 0, 1)
    ok = store.append(
        [StreamAppend("a", 1, [ev(2)]), StreamAppend("b", 0, [ev(1), ev(2)])], metadata=meta(),
    )
    assert (ok.first_position, ok.last_position) == (2, 4)

    # One stale expectation (b is at 2, not 1) among three: nothing at all is written, not
    # even to the streams whose expectation held, nor the aliases claimed alongside.
    with pytest.raises(ConcurrencyConflict):
        store.append(
            [StreamAppend("a", 2, [ev(3)]), StreamAppend("c", 0, [ev(1)]), StreamAppend("b", 1, [ev(3)])],
            metadata=meta(), aliases={"key:c": "c"},
        )

    assert [e.stream_version for e in store.read_stream("a")] == [1, 2]
    assert [e.stream_version for e in store.read_stream("b")] == [1, 2]
    assert store.read_stream("c") == []
    assert store.resolve("key:c") is None
    assert store.head() == 4
    assert len(store.read_all(0)) == 4


def test_an_alias_clash_rolls_back_the_events_of_the_same_append(store: EventStore) -> None:
    store.append([StreamAppend("a", 0, [ev(1)])], metadata=meta(), aliases={"slug:x": "a"})

    with pytest.raises(ConcurrencyConflict):
        store.append([StreamAppend("b", 0, [ev(1)])], metadata=meta(), aliases={"slug:x": "b"})

    assert store.read_stream("b") == []
    assert store.head() == 1


def test_positions_are_gap_free_and_in_order_even_after_failed_appends(store: EventStore) -> None:
    sizes = [1, 3, 1, 7, 2, 1, 5]
    versions: dict[str, int] = {}
    for i, size in enumerate(sizes):
        stream = f"s-{i % 3}"
        store.append(
            [StreamAppend(stream, versions.get(stream, 0), [ev(k) for k in range(size)])], metadata=meta(),
        )
        versions[stream] = versions.get(stream, 0) + size
        # A refused append in between must not burn positions (a sequence would).
        with pytest.raises(ConcurrencyConflict):
            store.append([StreamAppend(stream, 0, [ev(-1)])], metadata=meta())

    total = sum(sizes)
    positions = [e.global_position for e in store.read_all(0, limit=10_000)]
    assert positions == list(range(1, total + 1))
    assert store.head() == total
    for stream, version in versions.items():
        assert [e.stream_version for e in store.read_stream(stream)] == list(range(1, version + 1))


# --- reading -----------------------------------------------------------------------------------


def test_read_stream_after_version(store: EventStore) -> None:
    put(store, "s", 0, 10, 20, 30, 40)
    put(store, "other", 0, 99)

    assert [e.payload["n"] for e in store.read_stream("s", after_version=2)] == [30, 40]
    assert store.read_stream("s", after_version=4) == []
    assert [e.stream_id for e in store.read_stream("s")] == ["s"] * 4


def test_read_all_after_a_position_with_limit_types_and_until(store: EventStore) -> None:
    for i in range(10):
        put(store, f"s-{i}", 0, i, event_type="Even" if i % 2 == 0 else "Odd")

    assert [e.global_position for e in store.read_all(3, limit=4)] == [4, 5, 6, 7]
    assert [e.global_position for e in store.read_all(8)] == [9, 10]
    assert store.read_all(10) == []
    assert [e.global_position for e in store.read_all(0, types=["Odd"])] == [2, 4, 6, 8, 10]
    assert [e.global_position for e in store.read_all(4, limit=2, types=["Even"])] == [5, 7]
    assert [e.global_position for e in store.read_all(0, types=["Odd", "Even"], limit=3)] == [1, 2, 3]
    assert [e.global_position for e in store.read_all(2, until=5)] == [3, 4, 5]
    assert [e.global_position for e in store.read_all(0, types=["Even"], until=6)] == [1, 3, 5]
    assert store.read_all(0, types=["Nope"]) == []


def test_iter_all_reads_in_batches_past_the_batch_size(store: EventStore) -> None:
    for i in range(5):
        put(store, f"s-{i}", 0, *range(i * 10, i * 10 + 10))  # 50 events in 5 transactions

    seen = [e.global_position for e in store.iter_all(0, batch_size=7)]
    assert seen == list(range(1, 51))
    assert [e.global_position for e in store.iter_all(45, batch_size=5)] == [46, 47, 48, 49, 50]
    # An exact multiple of the batch size ends too (one extra, empty read).
    assert len(list(store.iter_all(0, batch_size=10))) == 50
    assert list(store.iter_all(50, batch_size=7)) == []


def test_head_is_the_last_committed_position(store: EventStore) -> None:
    assert store.head() == 0
    put(store, "s", 0, 1, 2, 3)
    assert store.head() == 3
    put(store, "t", 0, 1)
    assert store.head() == 4


def test_metadata_columns_round_trip(store: EventStore) -> None:
    # A non-UTC, microsecond-precise time: it must come back as the same instant, in UTC.
    occurred = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    md = Metadata(
        actor_type="user", actor_id="user-42", correlation_id="corr-1", causation_id="cause-1",
        occurred_at=occurred, command_id="cmd-1", worker_run_id="8a0c1f0e-2a4c-4f0e-9f3b-0d6c5b7a9e11",
    )
    before = datetime.now(UTC)
    store.append([StreamAppend("s", 0, [NewEvent("Typed", {"k": "v"}, schema_version=3)])], metadata=md)
    after = datetime.now(UTC)

    (stored,) = store.read_stream("s")
    assert isinstance(stored, StoredEvent)
    uuid.UUID(stored.event_id)  # a real UUID
    assert stored.event_type == "Typed"
    assert stored.schema_version == 3
    assert stored.payload == {"k": "v"}
    assert stored.occurred_at == occurred
    assert stored.occurred_at.utcoffset() == timedelta(0)
    assert stored.recorded_at.utcoffset() == timedelta(0)
    # The store's clock, not the caller's; allow for SQLite's text round trip (microseconds).
    assert before - timedelta(seconds=1) <= stored.recorded_at <= after + timedelta(seconds=1)
    assert (stored.actor_type, stored.actor_id) == ("user", "user-42")
    assert (stored.correlation_id, stored.causation_id, stored.command_id) == ("corr-1", "cause-1", "cmd-1")
    assert stored.worker_run_id == md.worker_run_id
    assert store.read_all(0) == [stored]
    assert stored.as_dict()["actor"] == {"type": "user", "id": "user-42"}


def test_event_ids_are_unique_and_deterministic_per_command(store: EventStore) -> None:
    store.append([StreamAppend("a", 0, [ev(1), ev(2)])], metadata=meta(command_id="c-1"))
    store.append([StreamAppend("b", 0, [ev(1)])], metadata=meta())
    assert store.read_stream("b")[0].worker_run_id is None  # the default: not signed by a run
    ids = [e.event_id for e in store.read_all(0)]
    assert len(set(ids)) == 3
    # Same command id, same stream and offset: the same event id, so a replayed append of an
    # already-recorded command collides on event_id as a last line of defence.
    with pytest.raises(ConcurrencyConflict):
        store.append([StreamAppend("a", 2, [ev(1)]), StreamAppend("z", 0, [ev(1)])],
                     metadata=meta(command_id="c-1"))
    assert store.head() == 3


def test_naive_datetimes_are_refused(store: EventStore) -> None:
    md = Metadata("user", "u", "c", "c", occurred_at=datetime(2024, 1, 1))
    # SQLAlchemy's type refuses it on the SQL stores, the memory store itself in memory.
    with pytest.raises((sa.exc.StatementError, ValueError), match="naive"):
        store.append([StreamAppend("s", 0, [ev(1)])], metadata=md)
    assert store.head() == 0


# --- aliases and command log ------------------------------------------------------------------


def test_alias_claim_resolve_and_second_claim_conflicts(store: EventStore) -> None:
    assert store.resolve("username:alice") is None
    store.append([StreamAppend("user-1", 0, [ev(1)])], metadata=meta(), aliases={"username:alice": "user-1"})
    assert store.resolve("username:alice") == "user-1"

    with pytest.raises(ConcurrencyConflict):
        store.append(
            [StreamAppend("user-2", 0, [ev(1)])], metadata=meta(), aliases={"username:alice": "user-2"},
        )
    # Even re-claiming for the same stream is a conflict: a claim is a unique reservation.
    with pytest.raises(ConcurrencyConflict):
        store.append([], metadata=meta(), aliases={"username:alice": "user-1"})
    assert store.resolve("username:alice") == "user-1"

    # Claims without events are allowed (and atomic with nothing else).
    store.append([], metadata=meta(), aliases={"a:1": "x", "a:2": "y"})
    assert (store.resolve("a:1"), store.resolve("a:2")) == ("x", "y")
    # Many at once (issue 10: a bulk command's lookups): only the claimed ones are answered.
    assert store.resolve_many(["a:2", "a:3", "a:1", "a:2"]) == {"a:1": "x", "a:2": "y"}
    assert store.resolve_many([f"a:{n}" for n in range(1200)]) == {"a:1": "x", "a:2": "y"}


def test_command_log_stores_response_and_position(store: EventStore) -> None:
    assert store.get_command("cmd-1") is None
    record = CommandRecord("cmd-1", "RegisterUser", "h" * 64, {"data": {"user_id": "u-1"}})
    put(store, "pre", 0, 1)
    result = store.append([StreamAppend("s", 0, [ev(1), ev(2)])], metadata=meta("cmd-1"), command=record)

    got = store.get_command("cmd-1")
    assert got == CommandRecord("cmd-1", "RegisterUser", "h" * 64, {"data": {"user_id": "u-1"}}, position=3)
    assert got.position == result.last_position == 3

    # A command that appended nothing keeps the position it answered from.
    store.append([], metadata=meta("cmd-2"), command=CommandRecord("cmd-2", "Noop", "x" * 64, {}, position=2))
    assert store.get_command("cmd-2") == CommandRecord("cmd-2", "Noop", "x" * 64, {}, position=2)

    # The command id is unique: recording it twice conflicts and writes no event.
    with pytest.raises(ConcurrencyConflict):
        store.append([StreamAppend("t", 0, [ev(1)])], metadata=meta("cmd-1"), command=record)
    assert store.read_stream("t") == []
    assert store.head() == 3


# --- append-only, enforced by the database ------------------------------------------------------


def _exec(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET payload = '{}' WHERE global_position = 1",
        "UPDATE events SET stream_id = 'moved'",
        "DELETE FROM events WHERE global_position = 1",
        # No WHERE: SQLite's truncate optimisation must not bypass the trigger.
        "DELETE FROM events",
        "UPDATE stream_aliases SET stream_id = 'hijacked'",
        "DELETE FROM stream_aliases",
    ],
)
def test_events_and_aliases_refuse_update_and_delete(
    sql_store: SqlEventStore, engine: Engine, sql: str,
) -> None:
    store = sql_store
    store.append([StreamAppend("s", 0, [ev(1), ev(2)])], metadata=meta(), aliases={"k": "s"})
    before = store.read_all(0)

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        _exec(engine, sql)

    assert store.read_all(0) == before
    assert store.resolve("k") == "s"


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["events", "stream_aliases"])
def test_postgres_refuses_truncate(pg_engine: Engine, table: str) -> None:
    store = SqlEventStore(pg_engine)
    store.append([StreamAppend("s", 0, [ev(1)])], metadata=meta(), aliases={"k": "s"})

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        _exec(pg_engine, f"TRUNCATE {table}")

    assert count_rows(pg_engine, events) == 1
    assert count_rows(pg_engine, stream_aliases) == 1


# --- migrations --------------------------------------------------------------------------------


def test_upgrade_is_idempotent(sql_store: SqlEventStore, engine: Engine) -> None:
    store = sql_store
    put(store, "s", 0, 1, 2)
    store.append([], metadata=meta("c"), command=CommandRecord("c", "T", "h", {}))

    upgrade(engine)  # the fixture already ran it once
    upgrade(engine)

    assert current_revision(engine) == head_revision()
    assert [e.global_position for e in store.read_all(0)] == [1, 2]
    assert count_rows(engine, event_position) == 1  # the counter row is not re-seeded
    assert count_rows(engine, command_log) == 1
    put(store, "s", 2, 3)
    assert store.head() == 3


def test_read_aliased_is_resolve_and_read_stream_in_one_for_short_streams(store: EventStore) -> None:
    assert store.read_aliased("worker-version:none", 5) is None
    store.append([StreamAppend("w", 0, [ev(1), ev(2)])], metadata=meta(), aliases={"v:1": "w"})
    store.append([StreamAppend("w", 2, [ev(3)])], metadata=meta(), aliases={"v:2": "w"})
    found = store.read_aliased("v:1", 3)
    assert found is not None
    stream_id, stored = found
    assert stream_id == "w"
    if isinstance(store, SqlEventStore) and not store.is_postgres:
        assert stored is None  # no round trip to save: read by version
    else:
        assert stored == store.read_stream("w")
        assert stored is not None and [e.stream_version for e in stored] == [1, 2, 3]
    # Longer than asked: the stream only, to be read by version.
    assert store.read_aliased("v:2", 2) == ("w", None)


def test_read_aliased_with_reads_the_named_streams_after_their_versions_too(store: EventStore) -> None:
    store.append([StreamAppend("w", 0, [ev(1), ev(2)])], metadata=meta(), aliases={"v:1": "w"})
    store.append([StreamAppend("p", 0, [ev(3), ev(4), ev(5)]), StreamAppend("q", 0, [ev(6)])],
                 metadata=meta())

    aliased, streams = store.read_aliased_with("v:1", 5, {"p": 1, "q": 0, "none": 0, "w": 2})

    assert aliased == store.read_aliased("v:1", 5)
    assert streams == {"p": store.read_stream("p", 1), "q": store.read_stream("q"), "none": [], "w": []}
    assert [e.stream_version for e in streams["p"]] == [2, 3]
    assert [e.payload["n"] for e in streams["p"]] == [4, 5]
    # An unclaimed alias, or a stream longer than asked: as `read_aliased` answers.
    assert store.read_aliased_with("v:none", 5, {"p": 3}) == (None, {"p": []})
    assert store.read_aliased_with("v:1", 1, {"q": 0}) == (("w", None), {"q": store.read_stream("q")})
    assert store.read_aliased_with("v:1", 5, {}) == (store.read_aliased("v:1", 5), {})
