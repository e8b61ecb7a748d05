"""ListCorpusWorkerRuns (issue 10): the worker runs that produced data in a corpus, for those
who may read the corpus (annotation tools list them to filter by run). A run's summary,
worker version, configuration and model are visible on the data it signed."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from domain.actor import Actor
from projections import document_queries as dq
from projections.element_tree_tables import rm_transcription_entities
from projections.generations import live_generation
from projections.queries import CATALOG, USER_RUNS, Page, _page, _runs_query
from projections.tables import (
    rm_classifications,
    rm_elements,
    rm_metadata,
    rm_transcriptions,
    rm_user_runs,
)


def _signing_runs(conn: sa.Connection, corpus_id: str) -> sa.CompoundSelect[Any]:
    """Ids of the runs that signed an element of the corpus or anything on one."""
    g = live_generation(conn, dq.DOCUMENTS)
    in_corpus = (
        sa.select(rm_elements.c.element_id)
        .where(rm_elements.c.generation == g, rm_elements.c.corpus_id == corpus_id)
    )
    parts: list[sa.Select[Any]] = [
        sa.select(rm_elements.c.worker_run_id).where(
            rm_elements.c.generation == g, rm_elements.c.corpus_id == corpus_id,
            rm_elements.c.worker_run_id.is_not(None),
        )
    ]
    for table in (rm_transcriptions, rm_classifications, rm_metadata, rm_transcription_entities):
        parts.append(
            sa.select(table.c.worker_run_id).where(
                table.c.generation == g, table.c.worker_run_id.is_not(None),
                table.c.element_id.in_(in_corpus),
            )
        )
    return sa.union(*parts)


def list_corpus_runs(
    conn: sa.Connection, actor: Actor, corpus_id: str, *, offset: int = 0, limit: int = 20,
) -> Page | None:
    """The runs that produced data in a visible corpus, newest first; None when not visible."""
    if dq.get_corpus(conn, actor, corpus_id) is None:
        return None
    runs = _signing_runs(conn, corpus_id).subquery("signing_runs")
    query = _runs_query(live_generation(conn, USER_RUNS), live_generation(conn, CATALOG)).where(
        rm_user_runs.c.run_id.in_(sa.select(runs.c.worker_run_id)),
        # Issue 14: a retracted run's data is hidden, so the run is not listed as having produced any.
        sa.not_(dq.run_retracted(conn, rm_user_runs.c.run_id)),
    )
    return _page(conn, query, [rm_user_runs.c.created_position.desc(), rm_user_runs.c.run_id], offset, limit)
