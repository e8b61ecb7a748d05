"""The relay: the `events` table is the outbox; this announces new positions to the workers.

It reads the event store after the projections' checkpoints and publishes, per projection,
one small message "bring `name` up to position P" (reference/event-sourcing.md §4.6):
positions, never events. A message is published before the relay records it, so a crash in
between republishes (at-least-once; the tasks are idempotent). A relay that starts anew
announces the head to every projection that is behind.

One message per projection at a time: while a projection's last message is not served yet
(its checkpoint is below the target), new events are *not* announced again, because the task
that serves it reads everything up to the head when it runs. The relay re-checks shortly
(`busy_interval`) and announces the rest once that task is done, so nothing waits on the
poll. Under load this turns one message per event into one per batch of events.

As a safety net it republishes for a projection whose message is not served and whose
checkpoint has not moved for `catchup_interval` seconds: a message lost with a killed
worker (Redis redelivers it only after the visibility timeout) or a failing event waiting
for its back-off is picked up again without anyone watching.

It wakes on PostgreSQL's NOTIFY (the event store notifies in each append) plus a short poll
(SQLite has no NOTIFY). Exactly one relay runs at a time: a PostgreSQL session advisory lock,
or an exclusive file lock next to the SQLite database; a second relay waits as a standby.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.engine import writer
from eventstore.pg_append import NOTIFY_CHANNEL
from projections import bookkeeping as bk
from projections.consistency import projection_positions
from projections.status import RELAY_CHECKPOINT, RELAY_GENERATION

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, name: str, target: int) -> None: ...


class RelayLockUnavailable(RuntimeError):
    """Another relay holds the lock (raised only when asked not to wait for it)."""


Waiter = Callable[[float], None]

#: back-off between two attempts to reconnect after the database went away (doubling)
RECONNECT_MIN = 0.5
RECONNECT_MAX = 10.0
#: seconds between two checks that the lock's connection (which LISTENs) is still alive
LOCK_CHECK_INTERVAL = 5.0


@dataclass
class _Sent:
    target: int  # the last position announced to this projection
    checkpoint: int  # the projection's checkpoint when last seen
    moved_at: float  # when that checkpoint last moved (or the message was sent)


@dataclass(frozen=True)
class StepResult:
    head: int
    published: list[str]
    #: projections whose message is still being served: look again soon
    waiting: list[str]


class Relay:
    def __init__(
        self,
        engine: Engine,
        publisher: Publisher,
        names: Sequence[str],
        *,
        poll_interval: float | None = None,
        busy_interval: float = 0.01,
        catchup_interval: float = 2.0,
        lock_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.names = list(names)
        self.is_postgres = engine.dialect.name == "postgresql"
        # With NOTIFY the poll is only a fallback; SQLite relies on it (a cheap one-row read).
        default_poll = 1.0 if self.is_postgres else 0.05
        self.poll_interval = poll_interval if poll_interval is not None else default_poll
        self.busy_interval = busy_interval
        self.catchup_interval = catchup_interval
        self.lock_path = lock_path or _default_lock_path(engine)
        self.clock = clock
        self._sent: dict[str, _Sent] = {}

    # --- one step -------------------------------------------------------------------------------

    def checkpoint(self) -> int:
        """The highest position announced so far (for status; correctness does not need it)."""
        with self.engine.connect() as conn:
            return bk.get_checkpoint(conn, RELAY_CHECKPOINT, RELAY_GENERATION)

    def step(self) -> StepResult:
        """Announce the head to every projection behind it that has no message being served."""
        now = self.clock()
        with self.engine.connect() as conn:
            head = bk.head_position(conn)
            checkpoints = projection_positions(conn, self.names)
        published, waiting = [], []
        for name in self.names:
            checkpoint = checkpoints[name]
            sent = self._sent.get(name)
            if sent is not None and checkpoint != sent.checkpoint:
                sent.checkpoint, sent.moved_at = checkpoint, now
            if checkpoint >= head:
                continue
            if sent is not None and sent.target > checkpoint:
                if now - sent.moved_at < self.catchup_interval:
                    waiting.append(name)
                    continue
                log.info("relay: projection %s has not moved for %.1fs at %s; republishing up to %s",
                         name, now - sent.moved_at, checkpoint, head)
            self.publisher.publish(name, head)
            self._sent[name] = _Sent(head, checkpoint, now)
            published.append(name)
        if published:
            with writer(self.engine).begin() as conn:
                bk.set_checkpoint(conn, RELAY_CHECKPOINT, RELAY_GENERATION, head, datetime.now(UTC))
        return StepResult(head, published, waiting)

    # --- the loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, wait_for_lock: bool = True) -> None:
        """Relay until `stop` is set. Waits (as a standby) while another relay holds the lock.

        Survives the database and the broker going away: a failed step is retried; a lost
        lock connection (PostgreSQL restarted, the backend terminated) ends the LISTEN and
        the advisory lock with it, so the relay reconnects and takes the lock again (or
        stands by if another relay took it meanwhile), with a capped back-off.
        """
        backoff = RECONNECT_MIN
        while True:  # the lock is tried at least once, even with `stop` already set
            try:
                with self._exclusive(stop, wait_for_lock) as wait:
                    if wait is None:
                        return
                    # What was announced before may have been lost with the connection: start
                    # from what the database says, as a new relay does.
                    self._sent.clear()
                    log.info("relay: running (checkpoint %s)", self.checkpoint())
                    backoff = RECONNECT_MIN
                    self._relay(stop, wait)
                    return
            except RelayLockUnavailable:
                raise
            except Exception as exc:
                log.warning("relay: lost the database (%s); reconnecting in %.1fs",
                            type(exc).__name__, backoff)
                if stop.wait(backoff):
                    return
                backoff = min(backoff * 2, RECONNECT_MAX)

    def _relay(self, stop: threading.Event, wait: Waiter) -> None:
        while not stop.is_set():
            try:
                result = self.step()
            except Exception as exc:
                # The broker or the database is away: nothing was recorded, try again. The
                # wait below raises if the lock's own connection is gone (then: reconnect).
                log.warning("relay: publishing failed (%s); retrying", type(exc).__name__)
                wait(1.0)
                continue
            wait(self.busy_interval if result.waiting else self.poll_interval)

    @contextlib.contextmanager
    def _exclusive(self, stop: threading.Event, wait_for_lock: bool) -> Iterator[Waiter | None]:
        if self.is_postgres:
            with self._pg_lock(stop, wait_for_lock) as wait:
                yield wait
        else:
            with self._file_lock(stop, wait_for_lock) as acquired:
                yield (lambda timeout: _wait(stop, timeout)) if acquired else None

    @contextlib.contextmanager
    def _pg_lock(self, stop: threading.Event, wait_for_lock: bool) -> Iterator[Waiter | None]:
        # A session lock on a dedicated connection, which also LISTENs: both end with it.
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            logged = False
            while not conn.execute(
                sa.text("SELECT pg_try_advisory_lock(hashtextextended(current_schema() || :key, 0))"),
                {"key": ":relay"},
            ).scalar():
                if not wait_for_lock:
                    raise RelayLockUnavailable("another relay is running")
                if not logged:
                    log.info("relay: another relay holds the lock; standing by")
                    logged = True
                if stop.wait(1.0):
                    yield None
                    return
            conn.exec_driver_sql(f"LISTEN {NOTIFY_CHANNEL}")
            driver: Any = conn.connection.driver_connection

            checked = [time.monotonic()]

            def wait(timeout: float) -> None:
                # Block until an append notifies or the poll interval passes (in short slices,
                # so a stop is prompt), then drain the other notifications: one read covers
                # them all. A dead connection raises here (the relay then reconnects); one
                # that died silently is found by a cheap query every LOCK_CHECK_INTERVAL.
                if time.monotonic() - checked[0] >= LOCK_CHECK_INTERVAL:
                    conn.exec_driver_sql("SELECT 1")
                    checked[0] = time.monotonic()
                deadline = time.monotonic() + timeout
                while not stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or any(True for _ in driver.notifies(timeout=min(remaining, 0.25),
                                                                           stop_after=1)):
                        break
                for _ in driver.notifies(timeout=0):
                    pass

            yield wait
        finally:
            # Closing the connection releases the lock and the LISTEN (a dead one: nothing to do).
            with contextlib.suppress(Exception):
                conn.invalidate()
                conn.close()

    @contextlib.contextmanager
    def _file_lock(self, stop: threading.Event, wait_for_lock: bool) -> Iterator[bool]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as handle:
            logged = False
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not wait_for_lock:
                        raise RelayLockUnavailable(f"another relay holds {self.lock_path}") from None
                    if not logged:
                        log.info("relay: another relay holds %s; standing by", self.lock_path)
                        logged = True
                    if stop.wait(1.0):
                        yield False
                        return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _wait(stop: threading.Event, timeout: float) -> None:
    stop.wait(timeout)


def _default_lock_path(engine: Engine) -> Path:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        return Path(database).with_name(Path(database).name + ".relay.lock")
    return Path(".worker-runs") / "relay.lock"
