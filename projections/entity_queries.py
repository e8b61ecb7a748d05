"""Read queries of the transcription entities (issue 10 B), with the visibility of
projections/document_queries.py (None = not visible, answered 404)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from domain.actor import Actor
from projections import document_queries as dq
from projections.element_tree_tables import rm_entity_types, rm_transcription_entities
from projections.generations import live_generation
from projections.queries import Page, Row, _page


def list_entity_types(
    conn: sa.Connection, actor: Actor, corpus_id: str, *, offset: int = 0, limit: int = 20,
) -> Page | None:
    if dq.get_corpus(conn, actor, corpus_id) is None:
        return None
    g = live_generation(conn, dq.DOCUMENTS)
    query = sa.select(rm_entity_types).where(
        rm_entity_types.c.generation == g, rm_entity_types.c.corpus_id == corpus_id
    )
    return _page(conn, query, [rm_entity_types.c.name, rm_entity_types.c.type_id], offset, limit)


def _entities_query(conn: sa.Connection) -> sa.Select[Any]:
    g = live_generation(conn, dq.DOCUMENTS)
    query = (
        sa.select(
            rm_transcription_entities,
            rm_entity_types.c.name.label("type_name"),
            rm_entity_types.c.color.label("type_color"),
        )
        .join(
            rm_entity_types,
            sa.and_(
                rm_entity_types.c.generation == g,
                rm_entity_types.c.type_id == rm_transcription_entities.c.type_id,
            ),
        )
        .where(rm_transcription_entities.c.generation == g)
    )
    return dq._with_run(query, rm_transcription_entities, conn)


def list_transcription_entities(
    conn: sa.Connection, actor: Actor, transcription_id: str, *, worker_run: str | None = None,
    offset: int = 0, limit: int = 20,
) -> Page | None:
    """Entities of a visible transcription, by offset; None when it is not visible."""
    if dq.get_transcription(conn, actor, transcription_id) is None:
        return None
    query = _entities_query(conn).where(
        rm_transcription_entities.c.transcription_id == transcription_id,
        dq._run_filter(rm_transcription_entities, worker_run),
    )
    order = [
        rm_transcription_entities.c.offset, rm_transcription_entities.c.length,
        rm_transcription_entities.c.created_position, rm_transcription_entities.c.entity_id,
    ]
    return _page(conn, query, order, offset, limit)


def get_entities(conn: sa.Connection, entity_ids: list[str]) -> list[Row]:
    rows = conn.execute(
        _entities_query(conn).where(rm_transcription_entities.c.entity_id.in_(entity_ids))
    ).mappings()
    by_id = {row["entity_id"]: row for row in rows}
    return [by_id[entity_id] for entity_id in entity_ids if entity_id in by_id]
