"""Read-model queries only the web UI needs (the API's live in projections/queries.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from domain.actor import Actor
from projections import queries as q
from projections.document_queries import DOCUMENTS
from projections.generations import live_generation
from projections.queries import USER_RUNS
from projections.tables import rm_retracted_runs, rm_user_runs, rm_users


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


#: how much the run options offer: a worker's configurations, the user's models and their newest versions
CHOICES_LIMIT = 100
MODELS_LIMIT = 50
MODEL_VERSIONS_LIMIT = 20


def run_choices(conn: sa.Connection, actor: Actor, worker_id: str) -> dict[str, Any]:
    """What "+" can attach to a run of this worker: its named configurations, and the versions of
    the models the user may use (grouped by model, newest first) — the same rules as the API."""
    configurations = q.list_worker_configurations(conn, actor, worker_id, limit=CHOICES_LIMIT)
    models = []
    for row in q.list_models(conn, actor, limit=MODELS_LIMIT).rows:
        versions = q.list_model_versions(conn, actor, row["model_id"], limit=MODEL_VERSIONS_LIMIT)
        if versions and versions.rows:
            models.append({"name": row["name"], "versions": [
                {"id": str(v["model_version_id"]), "number": v["number"], "tag": v["tag"]}
                for v in versions.rows
            ]})
    return {
        "configurations": [
            {"id": str(c["configuration_id"]), "name": c["name"]}
            for c in (configurations.rows if configurations else []) if not c["archived"]
        ],
        "models": models,
    }


def retracted_among(conn: sa.Connection, run_ids: Iterable[str]) -> set[str]:
    """Which of these runs are retracted (issue 14): the runs list marks them."""
    ids = list(run_ids)
    if not ids:
        return set()
    rows = conn.execute(
        sa.select(rm_retracted_runs.c.run_id).where(
            rm_retracted_runs.c.generation == live_generation(conn, DOCUMENTS),
            rm_retracted_runs.c.run_id.in_(ids),
        )
    )
    return set(rows.scalars())


def find_user_id(conn: sa.Connection, name_or_id: str) -> str | None:
    """The audit page's actor filter (issue 14): a username (any case, as sign-in matches it) or a
    user id -> the user id; None when no user has either."""
    g = live_generation(conn, q.CATALOG)
    row = conn.execute(
        sa.select(rm_users.c.user_id).where(
            rm_users.c.generation == g,
            sa.or_(rm_users.c.user_id == name_or_id,
                   sa.func.lower(rm_users.c.username) == name_or_id.lower()),
        ).order_by(
            # An id typed exactly wins over a username that happens to look like one.
            sa.case((rm_users.c.user_id == name_or_id, 0), else_=1)
        ).limit(1)
    ).first()
    return None if row is None else str(row.user_id)


def usernames(conn: sa.Connection, user_ids: Iterable[str]) -> dict[str, str]:
    """user id -> username, for the actors a page of the audit trail shows."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(rm_users.c.user_id, rm_users.c.username).where(
            rm_users.c.generation == live_generation(conn, q.CATALOG), rm_users.c.user_id.in_(ids),
        )
    )
    return {str(user_id): username for user_id, username in rows}
