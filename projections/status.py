"""Where each projection stands: generations, checkpoint, head, lag in events and seconds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.log_consumer import head_position
from projections import bookkeeping as bk
from projections.registry import PROJECTIONS
from projections.tables import dead_letters, projection_failures

#: the relay's own checkpoint row in projection_checkpoints (generation 0: it has no rows)
RELAY_CHECKPOINT = "relay:celery"
RELAY_GENERATION = 0


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    live_generation: int
    building_generation: int | None
    checkpoint: int
    building_checkpoint: int | None
    head: int
    lag_events: int
    #: now - recorded_at of the oldest event the live generation has not processed (0 if none)
    lag_seconds: float
    parked: int
    failing: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lag_seconds(conn: sa.Connection, checkpoint: int, head: int, now: datetime) -> float:
    if checkpoint >= head:
        return 0.0
    recorded_at = bk.recorded_at_after(conn, checkpoint)
    return max((now - recorded_at).total_seconds(), 0.0) if recorded_at else 0.0


def _count(conn: sa.Connection, table: sa.Table, name: str) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.name == name)
    return int(conn.execute(query).scalar() or 0)


def projection_statuses(
    engine: Engine, names: Iterable[str] | None = None, *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[ProjectionStatus]:
    """One consistent read per projection (default: every registered projection)."""
    statuses = []
    with engine.connect() as conn:
        head = head_position(conn)
        now = clock()
        for name in names or PROJECTIONS:
            live, building = bk.get_state(conn, name)
            checkpoint = bk.get_checkpoint(conn, name, live)
            statuses.append(ProjectionStatus(
                name=name,
                live_generation=live,
                building_generation=building,
                checkpoint=checkpoint,
                building_checkpoint=None if building is None else bk.get_checkpoint(conn, name, building),
                head=head,
                lag_events=max(head - checkpoint, 0),
                lag_seconds=_lag_seconds(conn, checkpoint, head, now),
                parked=_count(conn, dead_letters, name),
                failing=_count(conn, projection_failures, name),
            ))
    return statuses


def relay_checkpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return bk.get_checkpoint(conn, RELAY_CHECKPOINT, RELAY_GENERATION)
