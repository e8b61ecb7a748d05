"""How many live streams (SSE) one API process serves at once, in all and per user.

A stream holds a server thread for up to `sse_max_seconds` (integrations/live.py). Under
gunicorn's gthread workers (worker_runs/cli_api.py) the threads are few: uncapped streams
would leave none for ordinary requests. So each process counts its open streams, and a user
cannot take every slot alone. The counts are per process (each API process has its own
threads), kept under one lock, and a slot is given back exactly once, whichever way the
stream ends (its end, the client's disconnection, an error, or a response never sent).
"""

from __future__ import annotations

import threading
from typing import Literal


class StreamLimitReached(Exception):
    """No slot: `scope` says whether the caller or the whole process is at its limit."""

    def __init__(self, scope: Literal["user", "process"], limit: int) -> None:
        super().__init__(f"{scope} limit of {limit} live streams reached")
        self.scope = scope
        self.limit = limit


class StreamSlot:
    """One open stream's place in the count; `release()` is idempotent and thread-safe."""

    def __init__(self, slots: StreamSlots, user_id: str) -> None:
        self._slots = slots
        self._user_id = user_id
        self._released = False

    def release(self) -> None:
        self._slots._release(self)


class StreamSlots:
    """A thread-safe counter of open streams with a process-wide and a per-user limit."""

    def __init__(self, max_streams: int, max_per_user: int) -> None:
        self.max_streams = max_streams
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._total = 0
        self._per_user: dict[str, int] = {}

    def acquire(self, user_id: str) -> StreamSlot:
        """A slot for `user_id`, or StreamLimitReached (the caller's limit is checked first:
        one user's tabs say "you", not "the server")."""
        with self._lock:
            mine = self._per_user.get(user_id, 0)
            if mine >= self.max_per_user:
                raise StreamLimitReached("user", self.max_per_user)
            if self._total >= self.max_streams:
                raise StreamLimitReached("process", self.max_streams)
            self._per_user[user_id] = mine + 1
            self._total += 1
        return StreamSlot(self, user_id)

    def open_streams(self, user_id: str | None = None) -> int:
        with self._lock:
            return self._total if user_id is None else self._per_user.get(user_id, 0)

    def _release(self, slot: StreamSlot) -> None:
        with self._lock:
            if slot._released:
                return
            slot._released = True
            self._total -= 1
            left = self._per_user[slot._user_id] - 1
            if left:
                self._per_user[slot._user_id] = left
            else:
                del self._per_user[slot._user_id]
