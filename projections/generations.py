"""Which generation of a projection's rows is live (see projections/tables.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from projections.tables import projection_state

#: a projection that was never rebuilt serves generation 1
FIRST_GENERATION = 1

#: conn.info key of the generations a read transaction has already looked up
_READ_ONCE = "worker_runs.live_generations"


def live_generation_of(name: str) -> sa.ColumnElement[int]:
    """The live generation as a scalar subquery, for readers that filter rows in the statement
    itself (one snapshot: the generation and the rows are read together)."""
    current = sa.select(projection_state.c.live_generation).where(projection_state.c.name == name)
    return sa.func.coalesce(current.scalar_subquery(), FIRST_GENERATION)


@contextmanager
def generations_read_once(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Within this block, `live_generation` reads each projection's generation once on `conn`.

    Only for a read that is one snapshot (api/reads.py: REPEATABLE READ on PostgreSQL, SQLite's
    WAL read transaction), where a second read would see the same value anyway: a listing asks
    for the same generations up to a dozen times (every joined table, every visibility and
    retraction clause), each a round trip. Never around a write: a rebuild switches the live
    generation inside its transaction."""
    conn.info[_READ_ONCE] = {}
    try:
        yield conn
    finally:
        # conn.info belongs to the pooled DBAPI connection: the next user must not inherit it.
        conn.info.pop(_READ_ONCE, None)


def live_generation(conn: sa.Connection, name: str) -> int:
    known: dict[str, int] | None = conn.info.get(_READ_ONCE)
    if known is not None and name in known:
        return known[name]
    value = conn.execute(
        sa.select(projection_state.c.live_generation).where(projection_state.c.name == name)
    ).scalar()
    generation = FIRST_GENERATION if value is None else int(value)
    if known is not None:
        known[name] = generation
    return generation
