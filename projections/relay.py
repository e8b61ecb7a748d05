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
or an exclusive file lock next to the SQLite database; a second relay waits as a standby
(`singleton` in eventstore/log_consumer.py, with the head query and the back-off).

The webhook kicker (integrations/kicker.py) runs in the same loop, after the projections, on
the head just read: under the same lock, so two relays never both kick (`kickers`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine

from eventstore.engine import writer
from eventstore.log_consumer import (
    Backoff,
    LockUnavailable,
    Waiter,
    default_lock_path,
    head_position,
    singleton,
)
from projections import bookkeeping as bk
from projections.consistency import projection_positions
from projections.status import RELAY_CHECKPOINT, RELAY_GENERATION

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, name: str, target: int) -> None: ...


class Kicker(Protocol):
    """Another announcer of work in the log, run in the relay's loop under its lock (the webhook
    kicker, integrations/kicker.py): one singleton, one reconnect logic, one head query."""

    #: seconds between two looks while it is `behind` (no NOTIFY says a lease ended)
    poll_interval: float
    behind: bool

    def step(self, head: int | None = None) -> list[str]: ...

    def reset(self) -> None: ...


#: another relay holds the lock (raised only when asked not to wait for it)
RelayLockUnavailable = LockUnavailable

#: the singleton's name (eventstore/log_consumer.py): its advisory lock key, its lock file
LOCK_KEY = "relay"
#: back-off between two attempts to reconnect after the database went away (doubling)
RECONNECT_MIN = 0.5
RECONNECT_MAX = 10.0


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
    #: what the kickers announced (webhook subscription ids)
    kicked: list[str] = field(default_factory=list)


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
        kickers: Sequence[Kicker] = (),
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
        self.lock_path = lock_path or default_lock_path(engine, LOCK_KEY)
        self.clock = clock
        self.kickers = list(kickers)
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
            head = head_position(conn)
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
        kicked = [kicked for kicker in self.kickers for kicked in kicker.step(head)]
        return StepResult(head, published, waiting, kicked)

    # --- the loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, wait_for_lock: bool = True) -> None:
        """Relay until `stop` is set. Waits (as a standby) while another relay holds the lock.

        Survives the database and the broker going away: a failed step is retried; a lost
        lock connection (PostgreSQL restarted, the backend terminated) ends the LISTEN and
        the advisory lock with it, so the relay reconnects and takes the lock again (or
        stands by if another relay took it meanwhile), with a capped back-off.
        """
        backoff = Backoff(RECONNECT_MIN, RECONNECT_MAX)
        while True:  # the lock is tried at least once, even with `stop` already set
            try:
                with singleton(self.engine, LOCK_KEY, stop, wait_for_lock=wait_for_lock,
                               lock_path=self.lock_path) as wait:
                    if wait is None:
                        return
                    # What was announced before may have been lost with the connection: start
                    # from what the database says, as a new relay does.
                    self._sent.clear()
                    for kicker in self.kickers:
                        kicker.reset()
                    log.info("relay: running (checkpoint %s)", self.checkpoint())
                    backoff.reset()
                    self._relay(stop, wait)
                    return
            except LockUnavailable:
                raise
            except Exception as exc:
                delay = backoff.next_delay()
                log.warning("relay: lost the database (%s); reconnecting in %.1fs", type(exc).__name__, delay)
                if stop.wait(delay):
                    return

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
            wait(self._interval(result))

    def _interval(self, result: StepResult) -> float:
        if result.waiting:
            return self.busy_interval
        return min([self.poll_interval, *(k.poll_interval for k in self.kickers if k.behind)])
