"""A tailing reader never skips an event, even when writers commit slowly (PostgreSQL).

Setup from reference/event-sourcing.md §2.2 ("skipcheck"): 8 writer threads append
1-event transactions in a loop and keep each transaction open a random 0–5 ms after the
INSERT, while a reader tails with `read_all(cursor)`. With positions from a plain sequence,
a reader that has seen position p+1 committed before p moves its cursor past p and never
sees it; the store's one-row counter hands positions out in commit order instead.

The control test runs the same harness against sequence-numbered inserts and must detect
skips: proof that the harness can fail.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore import Metadata, NewEvent, SqlEventStore, StreamAppend
from eventstore.migrate import upgrade
from eventstore.schema import events
from tests.conftest import PostgresSchema

pytestmark = pytest.mark.postgres

WRITERS = 8
MAX_HOLD_SECONDS = 0.005


def hold_transactions_open(engine: Engine) -> None:
    """Sleep 0–5 ms just before each COMMIT on `engine`: after the INSERT, with the
    transaction (and, in the store, the position counter's row lock) still held.

    `ConnectionEvents.commit` fires before the DBAPI commit is sent, so no test hook is
    needed in the production code."""

    @sa.event.listens_for(engine, "commit")
    def _hold(_conn: sa.Connection) -> None:
        time.sleep(random.uniform(0, MAX_HOLD_SECONDS))


@dataclass
class TailReport:
    committed: list[int] = field(default_factory=list)  # positions the writers were told
    seen: list[int] = field(default_factory=list)  # positions in the order the reader saw them
    reads: int = 0


def tail_while_writing(
    reader: SqlEventStore, write_one: Callable[[int, int], int], seconds: float,
) -> TailReport:
    """Run WRITERS threads calling write_one(writer, n) -> committed position for `seconds`
    while this thread tails with read_all(cursor); then drain what is left."""
    report = TailReport()
    lock = threading.Lock()
    stop = threading.Event()
    start = threading.Barrier(WRITERS + 1, timeout=30)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        start.wait()
        n = 0
        try:
            while not stop.is_set():
                position = write_one(index, n)
                n += 1
                with lock:
                    report.committed.append(position)
        except BaseException as exc:  # surfaced below: a failing writer fails the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,), name=f"writer-{i}") for i in range(WRITERS)]
    for t in threads:
        t.start()

    cursor = 0

    def poll() -> None:
        nonlocal cursor
        batch = reader.read_all(cursor, limit=500)
        report.reads += 1
        for event in batch:
            report.seen.append(event.global_position)
            cursor = event.global_position

    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        poll()  # no pause: the tighter the polling, the likelier a reader races a commit
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    # Everything is committed now: one last read catches the tail.
    poll()
    while True:
        before = len(report.seen)
        poll()
        if len(report.seen) == before:
            break
    return report


@pytest.fixture
def schema_engines(pg_schema: PostgresSchema) -> Iterator[tuple[Engine, Engine]]:
    """(writers' engine with the injected commit delay, reader's engine)."""
    writers = pg_schema.engine(pool_size=WRITERS + 2, max_overflow=4)
    upgrade(writers)
    hold_transactions_open(writers)
    reader = pg_schema.engine(pool_size=2, max_overflow=2)
    yield writers, reader
    writers.dispose()
    reader.dispose()


def meta() -> Metadata:
    return Metadata("user", "writer", "c", "c", occurred_at=datetime.now(UTC))


def full_log(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(events.c.global_position).order_by(events.c.global_position))
                    .scalars())


def test_tailing_reader_sees_every_event_in_order(schema_engines: tuple[Engine, Engine]) -> None:
    writer_engine, reader_engine = schema_engines
    store = SqlEventStore(writer_engine)

    def write_one(index: int, n: int) -> int:
        result = store.append([StreamAppend(f"w-{index}", n, [NewEvent("Tick", {"n": n})])], metadata=meta())
        assert result.last_position is not None
        return result.last_position

    report = tail_while_writing(SqlEventStore(reader_engine), write_one, seconds=3.0)

    log = full_log(reader_engine)
    skipped = sorted(set(log) - set(report.seen))
    duplicates = len(report.seen) - len(set(report.seen))
    print(f"\ncounter: {len(log)} events by {WRITERS} writers, {report.reads} reads, "
          f"seen {len(report.seen)}, skipped {len(skipped)}, duplicates {duplicates}")
    assert len(log) > 100, "too few events for the test to mean anything"
    assert skipped == []
    assert report.seen == log  # every event, in position order, none twice
    assert log == list(range(1, len(log) + 1))  # gap-free
    assert sorted(report.committed) == log  # what the writers were told is what is stored
    # Each stream's versions are consecutive: no writer lost or repeated an append.
    for index in range(WRITERS):
        versions = [e.stream_version for e in SqlEventStore(reader_engine).read_stream(f"w-{index}")]
        assert versions == list(range(1, len(versions) + 1))


def test_control_sequence_positions_do_skip(schema_engines: tuple[Engine, Engine]) -> None:
    """The unsafe strategy, through the same harness: the harness must catch its skips."""
    writer_engine, reader_engine = schema_engines
    with writer_engine.begin() as conn:
        conn.exec_driver_sql("CREATE SEQUENCE control_positions")

    def write_one(index: int, n: int) -> int:
        row: dict[str, Any] = {
            "stream_id": f"w-{index}", "stream_version": n + 1, "event_id": f"{index}-{n}",
            "event_type": "Tick", "schema_version": 1, "payload": {"n": n},
            "occurred_at": datetime.now(UTC), "recorded_at": datetime.now(UTC), "actor_type": "user",
            "actor_id": "writer", "correlation_id": "c", "causation_id": "c",
        }
        with writer_engine.begin() as conn:
            return conn.execute(
                events.insert().values(global_position=sa.func.nextval("control_positions"), **row)
                .returning(events.c.global_position)
            ).scalar_one()

    report = tail_while_writing(SqlEventStore(reader_engine), write_one, seconds=1.5)

    log = full_log(reader_engine)
    skipped = set(log) - set(report.seen)
    print(f"\nsequence (control): {len(log)} events, {report.reads} reads, skipped {len(skipped)}")
    assert len(skipped) > 0
