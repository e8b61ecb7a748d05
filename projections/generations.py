"""Which generation of a projection's rows is live (see projections/tables.py)."""

from __future__ import annotations

import sqlalchemy as sa

from projections.tables import projection_state

#: a projection that was never rebuilt serves generation 1
FIRST_GENERATION = 1


def live_generation_of(name: str) -> sa.ColumnElement[int]:
    """The live generation as a scalar subquery, for readers that filter rows in the statement
    itself (one snapshot: the generation and the rows are read together)."""
    current = sa.select(projection_state.c.live_generation).where(projection_state.c.name == name)
    return sa.func.coalesce(current.scalar_subquery(), FIRST_GENERATION)


def live_generation(conn: sa.Connection, name: str) -> int:
    value = conn.execute(
        sa.select(projection_state.c.live_generation).where(projection_state.c.name == name)
    ).scalar()
    return FIRST_GENERATION if value is None else int(value)
