"""The `user_runs` projection: each user's user worker runs, newest first."""

from __future__ import annotations

from eventstore import StoredEvent
from projections.ops import Op, Upsert


def on_user_worker_run_created(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_user_runs", {"run_id": p["run_id"]}, {
        "user_id": p["user_id"], "process_id": p["process_id"], "worker_id": p["worker_id"],
        "worker_version_id": p["worker_version_id"], "configuration_id": p["configuration_id"],
        "model_version_id": p["model_version_id"], "summary": p["summary"],
        "created_at": e.occurred_at, "created_position": e.global_position,
    })]


PROJECTORS = {
    "UserWorkerRunCreated": on_user_worker_run_created,
}

TABLES = ("rm_user_runs",)
