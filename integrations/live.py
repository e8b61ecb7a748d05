"""Server-sent events: a live view of the feed (GET /api/v1/events/stream).

The stream is a plain iterator of bytes that a threaded WSGI server writes out as it is
produced. It polls the event store (not a side channel): each poll catches up the index and
reads the visible events after the cursor with a connection taken from the pool and given
back before the next sleep, so an idle stream holds no database connection.

When the client goes away, the server's next write fails and it calls `close()` on the
iterator (PEP 3333), which ends the generator at its `yield`; heartbeats make sure there is
such a write at least every `heartbeat` seconds. A stream also ends after `max_seconds`, and
the client reconnects with `Last-Event-ID`.

The caller was authenticated when the stream opened, but a stream outlives its request: every
`recheck_interval` seconds it asks `still_authorized` again (the API's own authenticator,
api/auth.py) and ends as soon as the token is revoked or the UI session signed out. The
client's reconnection is then refused (401), which stops a browser's EventSource.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from domain.actor import Actor
from eventstore.log_consumer import Backoff
from eventstore.outage import DB_UNAVAILABLE, is_db_unavailable
from integrations.feed import read_page
from integrations.stream_slots import StreamSlot

PAGE = 500
#: the longest wait between two reads while the database is away (doubling from the poll interval)
OUTAGE_RETRY_MAX = 5.0


@dataclass(frozen=True)
class StreamOptions:
    poll_interval: float
    heartbeat: float
    retry_ms: int
    max_seconds: float
    #: seconds between two checks of the caller's credential (see `still_authorized`)
    recheck_interval: float = 5.0


def frame(event: dict[str, Any]) -> bytes:
    """One SSE message: `id:` is the global position, `event:` the public type."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event['position']}\nevent: {event['type']}\ndata: {data}\n\n".encode()


class EventStream:
    """Iterate to get the stream's bytes; `close()` (called by the server) ends it."""

    def __init__(
        self,
        engine: Engine,
        actor: Actor,
        *,
        after: int,
        types: Sequence[str] | None,
        options: StreamOptions,
        still_authorized: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        slot: StreamSlot | None = None,
    ) -> None:
        self.engine = engine
        self.actor = actor
        #: False once the caller's credential no longer authenticates; None: never re-checked
        self.still_authorized = still_authorized
        self.after = after
        self.types = list(types) if types else None
        self.options = options
        self.clock = clock
        self._closed = threading.Event()
        self._frames = self._generate()
        #: this stream's place in the process's count (integrations/stream_slots.py)
        self._slot = slot
        if slot is not None:
            # A response never iterated nor closed (an error after the responder) still
            # gives its slot back once the stream is garbage-collected.
            weakref.finalize(self, slot.release)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        self._closed.set()
        try:
            self._frames.close()
        except ValueError:
            # Closed from another thread while the generator runs: it stops at its next check.
            pass
        finally:
            self._release()

    def _release(self) -> None:
        if self._slot is not None:
            self._slot.release()

    def _generate(self) -> Generator[bytes, None, None]:
        try:
            yield from self._frames_until_done()
        finally:
            # The stream's end, an error while streaming, or the server's close(): the
            # thread is about to be free, so is the slot.
            self._release()

    def _frames_until_done(self) -> Iterator[bytes]:
        opts = self.options
        started = last_sent = last_checked = self.clock()
        # Sent at once: the client knows the stream is open and how long to wait to reconnect.
        yield f"retry: {opts.retry_ms}\n: stream open\n\n".encode()
        outage = Backoff(opts.poll_interval, OUTAGE_RETRY_MAX)  # while the database is away
        while not self._closed.is_set() and self.clock() - started < opts.max_seconds:
            try:
                if self.still_authorized is not None and self.clock() - last_checked >= opts.recheck_interval:
                    # Checked before reading, so not one event is sent after a revocation is seen.
                    if not self.still_authorized():
                        yield b": credentials revoked\n\n"
                        return
                    last_checked = self.clock()
                page = read_page(self.engine, self.actor, after=self.after, limit=PAGE, types=self.types)
            except DB_UNAVAILABLE as exc:
                if not is_db_unavailable(exc):
                    raise
                # The database restarts or fails over: the stream stays open and retries (its
                # cursor is unchanged, so nothing is skipped); the comment doubles as heartbeat.
                yield b": database unavailable, retrying\n\n"
                last_sent = self.clock()
                self._closed.wait(outage.next_delay())
                continue
            outage.reset()
            for event in page.events:
                yield frame(event)
                last_sent = self.clock()
            self.after = page.next_after
            if page.full:
                continue
            if self.clock() - last_sent >= opts.heartbeat:
                yield b": heartbeat\n\n"
                last_sent = self.clock()
            self._closed.wait(min(opts.poll_interval, opts.heartbeat, opts.recheck_interval))
