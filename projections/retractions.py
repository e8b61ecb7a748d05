"""Retracted runs (issue 14), part of the `documents` projection: `WorkerRunRetracted` records
the run in `rm_retracted_runs`; the document queries hide every object whose `worker_run_id`
is there (projections/document_queries.py, `hidden`). Nothing is deleted: the rows, like the
events, keep what the run signed, and a rebuild gives the same listings."""

from __future__ import annotations

from eventstore import StoredEvent
from projections.ops import Op, Upsert


def on_worker_run_retracted(e: StoredEvent) -> list[Op]:
    p = e.payload
    return [Upsert("rm_retracted_runs", {"run_id": p["run_id"]}, {
        "user_id": p["user_id"], "retracted_by": p["retracted_by"], "retracted_at": e.occurred_at,
        "retracted_position": e.global_position,
    })]


PROJECTORS = {
    "WorkerRunRetracted": on_worker_run_retracted,
}

TABLES = ("rm_retracted_runs",)
