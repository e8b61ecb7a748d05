"""What a retraction answers (issue 14), shared by the API, the web UI and the CLI: the counts
of what the run signed (now hidden from the listings), who retracted it and when."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from projections import document_queries as dq
from projections.queries import CATALOG, USER_RUNS

#: the read models a retraction's answer (and the run's page) is read from
RETRACTION_READS = (CATALOG, USER_RUNS, dq.DOCUMENTS)
#: object type -> its plural, for sentences ("2 elements, 1 transcription, ...")
PLURALS = {"element": "elements", "transcription": "transcriptions", "classification": "classifications",
           "metadata": "metadata"}


def counts_sentence(counts: dict[str, int]) -> str:
    """"2 elements, 1 transcription, 0 classifications and 3 metadata"."""
    parts = [f"{counts[kind]} {kind if counts[kind] == 1 else plural}" for kind, plural in PLURALS.items()]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def retraction_answer(conn: sa.Connection, run_id: str, *, retracted_by: str) -> dict[str, Any]:
    """The answer of RetractWorkerRun, read once the documents projection has the retraction.
    Past the bounded wait (`X-Stale`), the time is unknown yet and the counts may be short."""
    row = dq.get_retraction(conn, run_id)
    return {
        "id": run_id,
        "retracted_by": row["retracted_by"] if row else retracted_by,
        "retracted_at": row["retracted_at"].isoformat() if row else None,
        "counts": dq.count_signed(conn, run_id),
    }
