"""Who created an object: the query behind RetrieveObjectProvenance, shared by the API and the
web UI's object search (issue 14), so both answer from the same rules."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from api.catalog import schemas as s
from api.documents.schemas import signing_run
from domain.actor import Actor
from projections import document_queries as dq
from projections import queries as q


def object_provenance(conn: sa.Connection, actor: Actor, object_id: str) -> dict[str, Any] | None:
    """The object's type, creator and signing run, or None when the actor may not read it.
    The full run is shown to its owner (and admins); others see `{id, summary}`."""
    found = dq.find_signed(conn, actor, object_id)
    if found is None:
        return None
    run_id = found.row["worker_run_id"]
    run = q.get_user_run(conn, actor, run_id) if run_id else None
    # the full run for its owner, else `{id, summary}` as every signed object shows it
    worker_run = s.worker_run_schema.dump(run) if run is not None else signing_run(found.row)
    return {
        "id": object_id,
        "type": found.type,
        "creator_id": found.row["user_id"],
        "created": found.row["created_at"].isoformat(),
        "worker_run": worker_run,
        "retracted": bool(found.row["run_retracted"]),
    }
