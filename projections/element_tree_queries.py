"""Element listings over the element tree (issue 10 B): ListElements (a corpus),
ListElementChildren and ListElementParents (direct or recursive), with the filters the
Arkindex clients send. Recursive listings are one query on the closure table
`rm_element_paths` (projections/element_tree_tables.py), never a recursive walk.

Visibility is that of projections/document_queries.py: a corpus and its elements are visible
to the corpus owner and to admins; "not visible" is None, answered as 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.actor import Actor
from projections import document_queries as dq
from projections.element_tree_tables import rm_element_paths
from projections.generations import live_generation
from projections.queries import Page, Row
from projections.tables import rm_corpora, rm_element_types, rm_elements, rm_metadata, rm_transcriptions

DOCUMENTS = dq.DOCUMENTS


@dataclass(frozen=True)
class ElementFilters:
    """The listing filters of ListElements / ListElementChildren / ListElementParents."""

    type: str | None = None
    name: str | None = None
    folder: bool | None = None
    top_level: bool | None = None
    #: a worker run id, or "false" for elements created without a run (sent as `False`)
    worker_run: str | None = None
    transcription_worker_run: str | None = None


def _run_value(value: str) -> str | None:
    """`false` (any case: the official client sends `False`) -> None; else the canonical uuid."""
    return None if value.lower() == "false" else str(uuid.UUID(value))


def _filtered(conn: sa.Connection, query: sa.Select[Any], f: ElementFilters) -> sa.Select[Any]:
    g = live_generation(conn, DOCUMENTS)
    if f.type is not None:
        query = query.where(rm_elements.c.type == f.type)
    if f.name:
        query = query.where(rm_elements.c.name.ilike(f"%{dq._escape(f.name)}%", escape="\\"))
    if f.folder is not None:
        folder_types = sa.select(rm_element_types.c.slug).where(
            rm_element_types.c.generation == g,
            rm_element_types.c.corpus_id == rm_elements.c.corpus_id,
            rm_element_types.c.folder.is_(True),
        )
        is_folder = rm_elements.c.type.in_(folder_types)
        query = query.where(is_folder if f.folder else sa.not_(is_folder))
    if f.top_level is not None:
        has_parent = sa.exists().where(
            rm_element_paths.c.generation == g,
            rm_element_paths.c.descendant_id == rm_elements.c.element_id,
        )
        query = query.where(sa.not_(has_parent) if f.top_level else has_parent)
    if f.worker_run is not None:
        run = _run_value(f.worker_run)
        query = query.where(
            rm_elements.c.worker_run_id.is_(None) if run is None else rm_elements.c.worker_run_id == run
        )
    if f.transcription_worker_run is not None:
        run = _run_value(f.transcription_worker_run)
        query = query.where(
            sa.exists().where(
                rm_transcriptions.c.generation == g,
                rm_transcriptions.c.element_id == rm_elements.c.element_id,
                rm_transcriptions.c.worker_run_id.is_(None)
                if run is None
                else rm_transcriptions.c.worker_run_id == run,
            )
        )
    return query


def _visible_elements(conn: sa.Connection, actor: Actor) -> sa.Select[Any]:
    """The ids of the elements `actor` may list: what dq._elements_query keeps (visible corpus,
    not signed by a retracted run), without the columns and outer joins a listed row shows."""
    g = live_generation(conn, DOCUMENTS)
    return (
        sa.select(rm_elements.c.element_id)
        .join(rm_corpora, sa.and_(
            rm_corpora.c.generation == g, rm_corpora.c.corpus_id == rm_elements.c.corpus_id,
        ))
        .where(
            rm_elements.c.generation == g, dq._corpus_visible(actor),
            sa.not_(dq.retracted(conn, rm_elements)),
        )
    )


def _ordered_page(
    conn: sa.Connection, actor: Actor, where: sa.ColumnElement[bool], filters: ElementFilters, offset: int,
    limit: int,
) -> Page:
    """A page of the visible elements matching `where` and `filters`, oldest first (the id makes
    the order total), like the other element listings.

    One pass over the matching ids gives the page and the exact count (a window count, before
    LIMIT), then only the page's rows get their corpus, creator, image and run: joining those
    to every element of a long listing before sorting it (a folder of 10,000 pages) cost a hash
    of every run of the generation per request, and counting apart a second pass."""
    order = [rm_elements.c.created_position, rm_elements.c.element_id]
    ids = _filtered(conn, _visible_elements(conn, actor).where(where), filters)
    page = conn.execute(
        ids.add_columns(sa.func.count().over().label("total")).order_by(*order).offset(offset).limit(limit)
    ).all()
    if not page:
        # Past the end (or nothing at all): only the count is left to tell.
        if not offset:
            return Page(0, [])
        return Page(conn.execute(sa.select(sa.func.count()).select_from(ids.subquery())).scalar_one(), [])
    rows = conn.execute(
        dq._elements_query(conn, actor)
        .where(rm_elements.c.element_id.in_([row.element_id for row in page]))
        .order_by(*order)
    ).mappings().all()
    return Page(page[0].total, rows)


def list_elements(
    conn: sa.Connection, actor: Actor, corpus_id: str, filters: ElementFilters, *, offset: int = 0,
    limit: int = 20,
) -> Page | None:
    """Elements of a visible corpus; None when the corpus is not visible."""
    if dq.get_corpus(conn, actor, corpus_id) is None:
        return None
    return _ordered_page(conn, actor, rm_elements.c.corpus_id == corpus_id, filters, offset, limit)


def _related(
    conn: sa.Connection, actor: Actor, element_id: str, filters: ElementFilters, *, recursive: bool,
    down: bool, offset: int, limit: int,
) -> Page | None:
    if dq.get_element(conn, actor, element_id) is None:
        return None
    g = live_generation(conn, DOCUMENTS)
    known, wanted = (
        (rm_element_paths.c.ancestor_id, rm_element_paths.c.descendant_id)
        if down
        else (rm_element_paths.c.descendant_id, rm_element_paths.c.ancestor_id)
    )
    related = sa.select(wanted).where(rm_element_paths.c.generation == g, known == element_id)
    if not recursive:
        related = related.where(rm_element_paths.c.depth == 1)
    return _ordered_page(conn, actor, rm_elements.c.element_id.in_(related), filters, offset, limit)


def list_children(
    conn: sa.Connection, actor: Actor, element_id: str, filters: ElementFilters, *, recursive: bool = False,
    offset: int = 0, limit: int = 20,
) -> Page | None:
    """Direct children (every descendant with `recursive`) of a visible element."""
    return _related(
        conn, actor, element_id, filters, recursive=recursive, down=True, offset=offset, limit=limit,
    )


def list_parents(
    conn: sa.Connection, actor: Actor, element_id: str, filters: ElementFilters, *, recursive: bool = False,
    offset: int = 0, limit: int = 20,
) -> Page | None:
    """Direct parents (every ancestor with `recursive`) of a visible element."""
    return _related(
        conn, actor, element_id, filters, recursive=recursive, down=False, offset=offset, limit=limit,
    )


def with_children(conn: sa.Connection, element_ids: Sequence[str]) -> set[str]:
    """Which of these elements have at least one child (`with_has_children`)."""
    if not element_ids:
        return set()
    g = live_generation(conn, DOCUMENTS)
    # A child signed by a retracted run (issue 14) is not listed: it does not count either.
    hidden_children = sa.select(rm_elements.c.element_id).where(
        rm_elements.c.generation == g, dq.retracted(conn, rm_elements)
    )
    rows = conn.execute(
        sa.select(rm_element_paths.c.ancestor_id)
        .where(
            rm_element_paths.c.generation == g,
            rm_element_paths.c.ancestor_id.in_(list(element_ids)),
            rm_element_paths.c.depth == 1,
            rm_element_paths.c.descendant_id.not_in(hidden_children),
        )
        .distinct()
    )
    return set(rows.scalars())


def metadata_of(conn: sa.Connection, element_ids: Sequence[str]) -> dict[str, list[Row]]:
    """The metadata of each element, by name then oldest first (`with_metadata`)."""
    result: dict[str, list[Row]] = {element_id: [] for element_id in element_ids}
    if not element_ids:
        return result
    g = live_generation(conn, DOCUMENTS)
    rows = conn.execute(
        sa.select(rm_metadata)
        .where(
            rm_metadata.c.generation == g, rm_metadata.c.element_id.in_(list(element_ids)),
            sa.not_(dq.retracted(conn, rm_metadata)),  # issue 14
        )
        .order_by(rm_metadata.c.name, rm_metadata.c.created_position, rm_metadata.c.metadata_id)
    ).mappings()
    for row in rows:
        result[row["element_id"]].append(row)
    return result

