"""The `user_runs` projection: each user's user worker runs, newest first."""

from __future__ import annotations

from domain import events as ev
from projections.envelope import Envelope
from projections.ops import Op, Projectors, Upsert


def on_user_worker_run_created(e: Envelope[ev.UserWorkerRunCreated]) -> list[Op]:
    r = e.event
    return [Upsert("rm_user_runs", {"run_id": r.run_id}, {
        "user_id": r.user_id, "process_id": r.process_id, "worker_id": r.worker_id,
        "worker_version_id": r.worker_version_id, "configuration_id": r.configuration_id,
        "model_version_id": r.model_version_id, "summary": r.summary,
        "created_at": e.occurred_at, "created_position": e.position,
    })]


PROJECTORS: Projectors = {
    ev.UserWorkerRunCreated: on_user_worker_run_created,
}

TABLES = ("rm_user_runs",)
