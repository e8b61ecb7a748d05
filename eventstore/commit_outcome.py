"""Resolving a COMMIT whose outcome is unknown (the connection died while it was in flight).

When the database goes away during an append, the client cannot tell whether the COMMIT was
applied. Answering an error then is wrong either way: if it did commit, the caller (an
unchanged client sends no Idempotency-Key) retries and duplicates the write. Every append
therefore carries an id recorded in the same transaction — its first event's `event_id`,
derived from the command's causation id (eventstore/store.py), or the command log row — and
the store looks that id up, with a bounded back-off, before answering:

- found: the append committed; it is answered as a success;
- looked up and absent: nothing was written; the original error stands (503, safe to retry);
- the database stays away for RESOLVE_SECONDS: `CommitOutcomeUnknown` (503, said as such).
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.outage import is_db_unavailable
from eventstore.schema import command_log, events

log = logging.getLogger(__name__)

#: how long an append waits for the database to come back to learn its own outcome
RESOLVE_SECONDS = 15.0


class CommitOutcomeUnknown(sa.exc.OperationalError):
    """The database went away during COMMIT and did not come back in time to tell.

    An OperationalError, so every outage handler (503 + Retry-After) treats it as one."""

    def __init__(self, detail: str) -> None:
        super().__init__("COMMIT", None, Exception(detail), connection_invalidated=True)


def committed(engine: Engine, *, event_id: str | None, command_id: str | None,
              timeout: float = RESOLVE_SECONDS) -> bool:
    """Whether the append identified by `event_id` (or, without events, `command_id`) is in
    the database. Raises CommitOutcomeUnknown when the database does not answer in time."""
    if event_id is not None:
        query = sa.select(sa.literal(1)).select_from(events).where(events.c.event_id == event_id)
    elif command_id is not None:
        query = sa.select(sa.literal(1)).select_from(command_log).where(
            command_log.c.command_id == command_id)
    else:
        raise CommitOutcomeUnknown("the append carried no id to look up")
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        # A pause first: a COMMIT the server received may still be finishing.
        time.sleep(delay)
        try:
            with engine.connect() as conn:
                found = conn.execute(query).first() is not None
            log.warning("event store: a COMMIT's outcome was unknown; it %s",
                        "was applied" if found else "was not applied")
            return found
        except sa.exc.SQLAlchemyError as exc:
            if not is_db_unavailable(exc):
                raise
        if time.monotonic() + delay > deadline:
            raise CommitOutcomeUnknown(
                f"the database went away during COMMIT and did not answer for {timeout:g}s"
            )
        delay = min(delay * 2, 2.0)
