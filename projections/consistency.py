"""Read-your-writes: wait (bounded) until the projections have reached a position.

Every command answers with the position of its last event. A read that carries that
position (or, for clients that send nothing, the caller's own last write position) waits
here until the live generation of the projections it reads has reached it, then answers;
if the wait times out the caller says so (the API sets a "stale" header), never silently.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.schema import events
from projections.generations import FIRST_GENERATION, live_generation
from projections.registry import PROJECTIONS
from projections.tables import projection_checkpoints, projection_state


def projection_position(conn: sa.Connection, name: str) -> int:
    """The checkpoint of the live generation of projection `name` (0 when never run)."""
    generation = live_generation(conn, name)
    value = conn.execute(
        sa.select(projection_checkpoints.c.position).where(
            projection_checkpoints.c.name == name, projection_checkpoints.c.generation == generation,
        )
    ).scalar()
    return int(value or 0)


def projection_positions(conn: sa.Connection, names: Iterable[str]) -> dict[str, int]:
    """The live checkpoint of each named projection, in one query (0 when never run)."""
    names = list(names)
    live = sa.func.coalesce(
        sa.select(projection_state.c.live_generation)
        .where(projection_state.c.name == projection_checkpoints.c.name)
        .scalar_subquery(),
        FIRST_GENERATION,
    )
    rows = conn.execute(
        sa.select(projection_checkpoints.c.name, projection_checkpoints.c.position)
        .where(projection_checkpoints.c.name.in_(names), projection_checkpoints.c.generation == live)
    )
    found = {name: int(position) for name, position in rows}
    return {name: found.get(name, 0) for name in names}


def reached(engine: Engine, position: int, names: Iterable[str] | None = None) -> bool:
    with engine.connect() as conn:
        return min(projection_positions(conn, names or PROJECTIONS).values(), default=position) >= position


def wait_for_position(
    engine: Engine,
    position: int | None,
    *,
    names: Iterable[str] | None = None,
    timeout: float = 2.0,
    poll_interval: float = 0.002,
    max_poll_interval: float = 0.02,
) -> bool:
    """True once every named projection (default: all) has reached `position`;
    False if `timeout` seconds pass first.

    Polls one cheap indexed query, starting fast (a projection usually lands within a few
    milliseconds of the command) and backing off to `max_poll_interval`.
    """
    if not position:
        return True
    names = list(names or PROJECTIONS)
    deadline = time.monotonic() + timeout
    interval = poll_interval
    while True:
        if reached(engine, position, names):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
        interval = min(interval * 1.5, max_poll_interval)


def last_write_position(engine: Engine, user_id: str) -> int:
    """The position of the user's last event: served by the (actor_id, global_position)
    index, so remembering "this user's last write" costs no extra write."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.max(events.c.global_position)).where(events.c.actor_id == user_id)
        ).scalar()
    return int(value or 0)
