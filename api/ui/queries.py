"""Read-model queries only the web UI needs (the API's live in projections/queries.py)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from projections.generations import live_generation
from projections.queries import USER_RUNS
from projections.tables import rm_user_runs


def user_runs_by_version(conn: sa.Connection, user_id: str, version_ids: Iterable[str]) -> dict[str, str]:
    """version id -> the user's run of it, for the versions a worker panel shows: a version that
    already has the user's run shows that run's ID instead of the green "+" (one run per version)."""
    ids = list(version_ids)
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(rm_user_runs.c.worker_version_id, rm_user_runs.c.run_id).where(
            rm_user_runs.c.generation == live_generation(conn, USER_RUNS),
            rm_user_runs.c.user_id == user_id,
            rm_user_runs.c.worker_version_id.in_(ids),
        )
    ).all()
    return {str(version_id): str(run_id) for version_id, run_id in rows}
