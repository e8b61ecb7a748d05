"""Baselines shared by the scenarios: what PostgreSQL, SQLite and pyeventsourcing do with the
same work and no application around it."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from worker_runs.bench.runner import BenchContext, Unavailable

if TYPE_CHECKING:  # psycopg is the `postgres` extra: the CLI imports this module without it
    import psycopg

#: a table shaped like `events`: what a raw INSERT+COMMIT per operation writes into
RAW_TABLE = """
CREATE TABLE IF NOT EXISTS raw_events (
    id bigserial PRIMARY KEY,
    stream_id text NOT NULL,
    stream_version integer NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    actor_id text NOT NULL,
    UNIQUE (stream_id, stream_version)
)
"""
RAW_INSERT = ("INSERT INTO raw_events (stream_id, stream_version, event_id, event_type, payload, actor_id) "
              "VALUES (%s, %s, %s, %s, %s, %s)")


def user_payload() -> dict[str, Any]:
    user_id = str(uuid.uuid4())
    return {"user_id": user_id, "username": f"raw-{user_id[:8]}", "email": None, "is_admin": False}


class SupportsClose(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=SupportsClose)


class ReusedConnections(Generic[C]):
    """Raw connections reused across samples (the writer threads are new each sample):
    a thread takes a free one or opens one, and gives it back; at most as many as threads ran
    at once stay open, like a pool. One free list serves the psycopg and the sqlite3 baselines."""

    def __init__(self, open_connection: Callable[[], C]) -> None:
        self._open = open_connection
        self._free: list[C] = []
        self._all: list[C] = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[C]:
        with self._lock:
            conn = self._free.pop() if self._free else None
        if conn is None:
            conn = self._open()
            with self._lock:
                self._all.append(conn)
        try:
            yield conn
        finally:
            with self._lock:
                self._free.append(conn)

    def close(self) -> None:
        for conn in self._all:
            conn.close()


def psycopg_connections(ctx: BenchContext, **kwargs: Any) -> ReusedConnections[psycopg.Connection[Any]]:
    """Raw psycopg connections to the run's database, opened with `kwargs`."""
    return ReusedConnections(lambda: ctx.connect(**kwargs))


class RawInserts:
    """Each operation is one INSERT and a COMMIT (the two round trips any durable append
    needs), on a connection of its own thread's while it runs."""

    def __init__(self, ctx: BenchContext) -> None:
        with ctx.connect(autocommit=True) as conn:
            conn.execute(RAW_TABLE)
        self.connections = psycopg_connections(ctx)

    def insert_one(self, event_type: str = "UserRegistered") -> None:
        payload = user_payload()
        with self.connections.connection() as conn:
            conn.execute(RAW_INSERT, (f"user-{payload['user_id']}", 1, uuid.uuid4(), event_type,
                                      json.dumps(payload), "system"))
            conn.commit()

    def close(self) -> None:
        self.connections.close()


class EventsourcingRecorder:
    """pyeventsourcing's PostgreSQL application recorder (the `bench` extra), one event per
    insert_events call: the nearest library doing what our append does."""

    def __init__(self, ctx: BenchContext, pool_size: int) -> None:
        try:
            from eventsourcing.persistence import StoredEvent
            from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
        except ImportError as exc:
            self.problem = (f"unavailable: eventsourcing[postgres] is not installed ({exc}); "
                            "pip install 'worker-runs[bench]'")
            return
        self.problem = ""
        import sqlalchemy as sa

        u = sa.make_url(ctx.postgres_url())
        self._stored_event = StoredEvent
        self.datastore = PostgresDatastore(
            dbname=u.database or "", host=u.host or "127.0.0.1", port=u.port or 5432,
            user=u.username or "postgres", password=u.password or "", pool_size=pool_size,
        )
        self.recorder = PostgresApplicationRecorder(self.datastore, events_table_name="es_stored_events")
        self.recorder.create_table()

    def insert_one(self) -> None:
        if self.problem:
            raise Unavailable(self.problem)
        payload = user_payload()
        self.recorder.insert_events([self._stored_event(
            originator_id=uuid.UUID(payload["user_id"]), originator_version=1,
            topic="worker_runs.bench:UserRegistered", state=json.dumps(payload).encode(),
        )])

    def close(self) -> None:
        if not self.problem:
            self.datastore.close()
