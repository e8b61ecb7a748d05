"""Retracted runs (issue 14), part of the `documents` projection: `WorkerRunRetracted` records
the run in `rm_retracted_runs`; the document queries hide every object whose `worker_run_id`
is there (projections/document_queries.py, `hidden`). Nothing is deleted: the rows, like the
events, keep what the run signed, and a rebuild gives the same listings."""

from __future__ import annotations

from domain import events as ev
from projections.envelope import Envelope
from projections.ops import Op, Projectors, Upsert


def on_worker_run_retracted(e: Envelope[ev.WorkerRunRetracted]) -> list[Op]:
    r = e.event
    return [Upsert("rm_retracted_runs", {"run_id": r.run_id}, {
        "user_id": r.user_id, "retracted_by": r.retracted_by, "retracted_at": e.occurred_at,
        "retracted_position": e.position,
    })]


PROJECTORS: Projectors = {
    ev.WorkerRunRetracted: on_worker_run_retracted,
}

TABLES = ("rm_retracted_runs",)
