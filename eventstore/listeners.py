"""In-process observers of committed appends (both stores).

What a process caches from the event store (api/auth.py: token -> user) must forget an entry the
moment a command of the same process changes it: the store calls its listeners right after each
append commits, in the appending thread, before the command's caller gets its answer. Changes
made by other processes are not seen here; a cache catches those up by position.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence

from eventstore.records import StreamAppend

log = logging.getLogger(__name__)

AppendListener = Callable[[Sequence[StreamAppend]], None]


class AppendListeners:
    def __init__(self) -> None:
        # Weak: a listener's owner (an authenticator per app) must not be kept alive by the
        # store it watches.
        self._listeners: list[weakref.WeakMethod[AppendListener]] = []
        self._lock = threading.Lock()

    def add(self, listener: AppendListener) -> None:
        """Register a bound method, called with the appends of every committed append."""
        with self._lock:
            self._listeners.append(weakref.WeakMethod(listener))

    def notify(self, appends: Sequence[StreamAppend]) -> None:
        if not self._listeners or not appends:
            return
        with self._lock:
            alive = [ref() for ref in self._listeners]
            self._listeners = [ref for ref, fn in zip(self._listeners, alive, strict=True) if fn is not None]
        for fn in alive:
            if fn is None:
                continue
            try:
                fn(appends)
            except Exception:  # the append committed: an observer's failure must not undo that answer
                log.exception("event store: an append listener failed")
