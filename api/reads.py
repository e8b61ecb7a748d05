"""Read-your-writes for HTTP readers (design.md, "Consistency contract").

Every read first waits, bounded, until the projections it reads have reached
- the position the client asked for (`X-Min-Event-Position` header or `?min_position=`), and
- the caller's own last write (so unchanged Arkindex clients, which send no header, still
  see what they just created, every time, without sleeping).
If the projections do not get there in time the read is answered anyway, marked
`X-Stale: true` with the position the projections did reach (`X-Projection-Position`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import falcon
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.base_schemas import MAX_INT64
from api.errors import invalid
from eventstore.log_consumer import head_position
from projections.consistency import last_write_position, projection_position
from projections.generations import generations_read_once
from projections.position_watch import PositionWatch
from projections.tables import dead_letters

MIN_POSITION_HEADER = "X-Min-Event-Position"


class ReadModels:
    """Connections for reads, and the bounded wait that makes them read-your-writes."""

    def __init__(self, engine: Engine, *, wait_seconds: float) -> None:
        self.engine = engine
        self.wait_seconds = wait_seconds
        #: one poller for every waiting read of this process
        self.watch = PositionWatch(engine)
        if engine.dialect.name == "postgresql":
            # One snapshot per read, so a page's `count` and its rows agree even while a
            # projection commits between the two statements.
            self._read_engine = engine.execution_options(isolation_level="REPEATABLE READ")
        else:
            # SQLite: the connection's BEGIN (eventstore.engine) already gives WAL snapshots.
            self._read_engine = engine  # type: ignore[assignment]  # both are Engines at run time

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        with self._read_engine.connect() as conn, generations_read_once(conn):
            yield conn

    def requested_position(self, req: falcon.Request, query_position: int | None) -> int:
        """The larger of `X-Min-Event-Position` and `?min_position=` (0 when neither)."""
        header = req.get_header(MIN_POSITION_HEADER)
        position = 0
        if header is not None:
            try:
                position = int(header.strip())
            except ValueError:
                raise invalid([MIN_POSITION_HEADER], "Must be a non-negative integer.") from None
            if not 0 <= position <= MAX_INT64:
                raise invalid([MIN_POSITION_HEADER], "Must be a non-negative integer.")
        return max(position, query_position or 0)

    def before_read(
        self, req: falcon.Request, resp: falcon.Response, user_id: str, query_position: int | None,
        names: Iterable[str],
    ) -> bool:
        requested = self.requested_position(req, query_position)
        own = last_write_position(self.engine, user_id)
        if requested > own:
            with self.engine.connect() as conn:
                head = head_position(conn)
            if requested > head:
                # A position nobody has written yet cannot be waited for: waiting would only
                # hold a server thread (anyone could ask for one). Answer now, marked stale.
                self.wait(resp, own, names)
                self._mark_stale(resp, list(names))
                return False
        return self.wait(resp, max(requested, own), names)

    def wait(self, resp: falcon.Response, position: int | None, names: Iterable[str]) -> bool:
        """Wait until `names` reach `position`; mark the response stale if they do not in time.

        The waits of a process share one poller (projections/position_watch.py)."""
        names = list(names)
        if not position or not names:
            return True
        if self.watch.wait(position, names, timeout=self.wait_seconds):
            return True
        self._mark_stale(resp, names)
        return False

    def _mark_stale(self, resp: falcon.Response, names: list[str]) -> None:
        with self.engine.connect() as conn:
            reached = min(projection_position(conn, name) for name in names)
        resp.set_header("X-Stale", "true")
        resp.set_header("X-Projection-Position", str(reached))

    def mark_missing(self, resp: falcon.Response, position: int | None, names: Iterable[str]) -> None:
        """A write the projections passed but whose object is not there: say it is stale.

        A projection that parks an event (projections/runner.py) moves its checkpoint past it,
        so the wait succeeds while the object is missing. Only then (an unusual path) one
        primary-key lookup tells whether the command's event is parked or held behind one."""
        resp.set_header("X-Stale", "true")
        names = list(names)
        if not position or not names:
            return
        with self.engine.connect() as conn:
            parked = conn.execute(
                sa.select(sa.literal(1)).where(
                    dead_letters.c.name.in_(names), dead_letters.c.global_position == position
                ).limit(1)
            ).first()
        if parked is not None:
            resp.set_header("X-Stale-Reason", "parked")
