"""One poller per process for every read-your-writes wait.

Each waiting read used to poll the projections' checkpoints itself (every 2-20 ms for up to
2 s): 60 clients asking for a future position took PostgreSQL from 2 to 2,168 transactions/s.
Here the waiters of a process share one background thread that reads every projection's
position in one query, every POLL_INTERVAL seconds, only while someone waits, and wakes the
waiters whose position is reached. The load is one query per interval, whatever the number of
waiters; the thread sleeps (no query at all) while nobody waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from sqlalchemy.engine import Engine

from projections.consistency import projection_positions
from projections.registry import PROJECTIONS

log = logging.getLogger(__name__)

#: seconds between two reads of the checkpoints while at least one read waits
POLL_INTERVAL = 0.005
#: the poller thread ends after this long without a waiter (the next wait starts a new one)
IDLE_EXIT = 30.0


class PositionWatch:
    def __init__(self, engine: Engine, names: Iterable[str] | None = None,
                 poll_interval: float = POLL_INTERVAL) -> None:
        self.engine = engine
        self.names = list(names or PROJECTIONS)
        self.poll_interval = poll_interval
        self._cond = threading.Condition()
        #: the last positions read (projection -> live checkpoint)
        self._positions: dict[str, int] = {}
        self._waiters = 0
        self._thread: threading.Thread | None = None

    def _reached(self, position: int, names: list[str]) -> bool:
        return all(self._positions.get(name, 0) >= position for name in names)

    def positions(self) -> dict[str, int]:
        with self._cond:
            return dict(self._positions)

    def wait(self, position: int, names: Iterable[str], timeout: float) -> bool:
        """True once every one of `names` has reached `position`; False after `timeout`."""
        wanted = list(names)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._reached(position, wanted):
                return True
            self._waiters += 1
            self._ensure_thread()
            self._cond.notify_all()  # a sleeping poller: read now
            try:
                while not self._reached(position, wanted):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._waiters -= 1

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="position-watch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        failures = 0
        while True:
            with self._cond:
                while self._waiters == 0:
                    if not self._cond.wait(IDLE_EXIT) and self._waiters == 0:
                        self._thread = None  # under the lock: the next wait starts a new one
                        return
            try:
                with self.engine.connect() as conn:
                    positions = projection_positions(conn, self.names)
                failures = 0
            except Exception as exc:  # the database is away: the waiters time out as before
                failures += 1
                if failures == 1:
                    log.warning("position watch: cannot read the projections' positions (%s)",
                                type(exc).__name__)
                time.sleep(min(0.05 * failures, 1.0))
                continue
            with self._cond:
                self._positions = positions
                self._cond.notify_all()
            time.sleep(self.poll_interval)
