"""What every reader of the event log is built from: the head, the locks, the upsert, the back-off.

The relay (projections/relay.py, with the webhook kicker folded into its loop), the projection
runner (projections/runner.py, which also builds the subject and visibility index) and the
webhook deliverer each used to spell these themselves. One spelling each, here:

* `head_position` / `read_events`: where the log ends, and the events after a position.
* `dialect_insert`: `INSERT … ON CONFLICT` for the engine's dialect (PostgreSQL and SQLite share
  the construct, but SQLAlchemy keeps it in each dialect's own `insert`).
* `lock_for_transaction`: serialise transactions on one name (a PostgreSQL advisory transaction
  lock; SQLite's writer transactions already hold the only write lock).
* `singleton`: one process at a time holds a name for as long as it runs (a PostgreSQL session
  advisory lock on a connection that also LISTENs for appends; an exclusive file lock next to
  the SQLite database), the others stand by.
* `exponential_delay` / `Backoff`: how long to wait after the n-th failure.

Every advisory lock key is `current_schema() || ':' || name`: databases shared by several
schemas (tests, tenants) do not block each other, and the keys are the ones earlier versions
used, so a relay of the previous release and one of this release still exclude each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from eventstore.pg_append import NOTIFY_CHANNEL
from eventstore.records import StoredEvent
from eventstore.schema import event_position, events

log = logging.getLogger(__name__)

#: block until an append notifies or `timeout` seconds pass; raises when the lock is lost
Waiter = Callable[[float], None]

#: seconds between two checks that a singleton's connection (which LISTENs) is still alive
LOCK_CHECK_INTERVAL = 5.0
#: seconds between two tries of a standby for a singleton held elsewhere
STANDBY_RETRY = 1.0


# --- the log ------------------------------------------------------------------------------------


def head_position(conn: sa.Connection) -> int:
    """The position of the last committed event (0 when the log is empty)."""
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


# --- writing what was read ----------------------------------------------------------------------


def dialect_insert(bind: sa.Connection | Engine, table: sa.Table) -> Any:
    """`INSERT` with the dialect's `ON CONFLICT` support (`on_conflict_do_nothing/_do_update`)."""
    return insert_for(bind.dialect.name, table)


def insert_for(dialect: str, table: sa.Table) -> Any:
    """`dialect_insert` by dialect name (for statements built once and cached per dialect)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# --- locks --------------------------------------------------------------------------------------

_KEY = "hashtextextended(current_schema() || ':' || :key, 0)"


def lock_for_transaction(conn: sa.Connection, key: str) -> None:
    """Serialise transactions that use the same `key` until this transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: nothing to do, the caller's
    transaction began with BEGIN IMMEDIATE (eventstore.engine.writer) and already holds the
    database's only write lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_KEY})"), {"key": key})


class LockUnavailable(RuntimeError):
    """Another process holds the singleton (raised only when asked not to wait for it)."""


@contextlib.contextmanager
def singleton(
    engine: Engine, key: str, stop: threading.Event, *, wait_for_lock: bool = True,
    lock_path: Path | None = None,
) -> Iterator[Waiter | None]:
    """Hold `key` for the length of the block, standing by while another process holds it.

    Yields a `Waiter` (on PostgreSQL woken by the event store's NOTIFY, elsewhere a plain
    sleep), or None when `stop` was set while standing by. The lock ends with the connection
    (PostgreSQL) or the file handle (SQLite), so a killed holder releases it.
    """
    if engine.dialect.name == "postgresql":
        with _session_lock(engine, key, stop, wait_for_lock) as wait:
            yield wait
    else:
        path = lock_path or default_lock_path(engine, key)
        with _file_lock(path, key, stop, wait_for_lock) as acquired:
            yield (lambda timeout: _sleep(stop, timeout)) if acquired else None


def default_lock_path(engine: Engine, key: str) -> Path:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        return Path(database).with_name(f"{Path(database).name}.{key}.lock")
    return Path(".worker-runs") / f"{key}.lock"


@contextlib.contextmanager
def _session_lock(
    engine: Engine, key: str, stop: threading.Event, wait_for_lock: bool,
) -> Iterator[Waiter | None]:
    # A session lock on a dedicated connection, which also LISTENs: both end with it.
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        logged = False
        while not conn.execute(sa.text(f"SELECT pg_try_advisory_lock({_KEY})"), {"key": key}).scalar():
            if not wait_for_lock:
                raise LockUnavailable(f"another {key} is running")
            if not logged:
                log.info("%s: another process holds the lock; standing by", key)
                logged = True
            if stop.wait(STANDBY_RETRY):
                yield None
                return
        conn.exec_driver_sql(f"LISTEN {NOTIFY_CHANNEL}")
        yield _notify_waiter(conn, stop)
    finally:
        # Closing the connection releases the lock and the LISTEN (a dead one: nothing to do).
        with contextlib.suppress(Exception):
            conn.invalidate()
            conn.close()


def _notify_waiter(conn: sa.Connection, stop: threading.Event) -> Waiter:
    driver: Any = conn.connection.driver_connection
    checked = [time.monotonic()]

    def wait(timeout: float) -> None:
        # Block until an append notifies or the timeout passes (in short slices, so a stop is
        # prompt), then drain the other notifications: one read covers them all. A dead
        # connection raises here (the caller then reconnects); one that died silently is
        # found by a cheap query every LOCK_CHECK_INTERVAL.
        if time.monotonic() - checked[0] >= LOCK_CHECK_INTERVAL:
            conn.exec_driver_sql("SELECT 1")
            checked[0] = time.monotonic()
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if any(True for _ in driver.notifies(timeout=min(remaining, 0.25), stop_after=1)):
                break
        for _ in driver.notifies(timeout=0):
            pass

    return wait


@contextlib.contextmanager
def _file_lock(path: Path, key: str, stop: threading.Event, wait_for_lock: bool) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        logged = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait_for_lock:
                    raise LockUnavailable(f"another {key} holds {path}") from None
                if not logged:
                    log.info("%s: another process holds %s; standing by", key, path)
                    logged = True
                if stop.wait(STANDBY_RETRY):
                    yield False
                    return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _sleep(stop: threading.Event, timeout: float) -> None:
    stop.wait(timeout)


# --- back-off -----------------------------------------------------------------------------------


def exponential_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the `attempts`-th failure: `base` after the first, doubled for each
    next one, never more than `cap`."""
    return min(base * 2.0 ** max(attempts - 1, 0), cap)


@dataclass
class Backoff:
    """`exponential_delay` for a loop that counts its own consecutive failures."""

    base: float
    cap: float
    failures: int = 0

    def next_delay(self) -> float:
        self.failures += 1
        return exponential_delay(self.failures, self.base, self.cap)

    def reset(self) -> None:
        self.failures = 0
