"""Read queries of the `documents` projection (issue 5), on the live generation, stably ordered.

Visibility: a corpus and everything in it are visible to its owner and to admins (corpora
are private; there are no corpus memberships yet). "Not visible" returns None, which the
API answers as 404, exactly like "does not exist".

The signing run of an object is shown as `{id, summary}` to anyone who can read the object
(the run's summary is public to the readers of its results); its worker, version,
configuration and model come from RetrieveWorkerRun, for the run's owner.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.actor import Actor
from projections.element_tree_tables import rm_element_paths
from projections.generations import live_generation
from projections.image_queries import with_image
from projections.queries import (
    FIRST_PAGE,
    USER_RUNS,
    Keyset,
    KeysetPage,
    Page,
    Row,
    SortKey,
    _keyset,
    _page,
    keyset_beyond,
    keyset_order,
)
from projections.tables import (
    rm_classifications,
    rm_corpora,
    rm_element_types,
    rm_elements,
    rm_metadata,
    rm_ml_classes,
    rm_retracted_runs,
    rm_transcriptions,
    rm_user_runs,
    rm_users,
)

DOCUMENTS = "documents"

#: object type -> (table, id column): what a run can produce
SIGNED_TABLES: dict[str, tuple[sa.Table, str]] = {
    "element": (rm_elements, "element_id"),
    "transcription": (rm_transcriptions, "transcription_id"),
    "classification": (rm_classifications, "classification_id"),
    "metadata": (rm_metadata, "metadata_id"),
}


def _corpus_visible(actor: Actor, corpora: sa.FromClause = rm_corpora) -> sa.ColumnElement[bool]:
    return sa.true() if actor.is_admin else corpora.c.owner_id == actor.user_id


def _retraction_of(conn: sa.Connection, run_id: Any) -> sa.ColumnElement[bool]:
    """The live retraction row of `run_id` (a column or a value): the one clause that every
    "is this run retracted?" question (issue 14) asks."""
    return sa.and_(
        rm_retracted_runs.c.generation == live_generation(conn, DOCUMENTS),
        rm_retracted_runs.c.run_id == run_id,
    )


def run_retracted(conn: sa.Connection, run_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """True where the run in `run_id` is retracted (issue 14). NULL never matches. One
    primary-key probe per row."""
    return sa.exists().where(_retraction_of(conn, run_id))


def retracted(conn: sa.Connection, table: sa.Table) -> sa.ColumnElement[bool]:
    """True for an object signed by a retracted run (issue 14). A NULL `worker_run_id` (made by
    a user without a run) never matches."""
    return run_retracted(conn, table.c.worker_run_id)


def _with_run(
    query: sa.Select[Any], table: sa.Table, conn: sa.Connection, *, include_retracted: bool = False,
) -> sa.Select[Any]:
    """Add the signing run's summary and worker version (outer join: user-created objects).

    Every listing and retrieval of signed objects goes through here, so this is where the
    objects of a retracted run disappear (issue 14). `include_retracted` keeps them, flagged
    `run_retracted`: "who created this object?" still answers for them."""
    if include_retracted:
        query = query.add_columns(retracted(conn, table).label("run_retracted"))
    else:
        query = query.where(sa.not_(retracted(conn, table)))
    runs_generation = live_generation(conn, USER_RUNS)
    return query.add_columns(
        rm_user_runs.c.summary.label("run_summary"),
        rm_user_runs.c.worker_version_id.label("run_version_id"),
    ).outerjoin(
        rm_user_runs,
        sa.and_(
            rm_user_runs.c.generation == runs_generation,
            rm_user_runs.c.run_id == table.c.worker_run_id,
        ),
    )


# --- corpora -------------------------------------------------------------------------------


def get_corpus(conn: sa.Connection, actor: Actor, corpus_id: str) -> Row | None:
    g = live_generation(conn, DOCUMENTS)
    return (
        conn.execute(
            sa.select(rm_corpora).where(
                rm_corpora.c.generation == g,
                rm_corpora.c.corpus_id == corpus_id,
                _corpus_visible(actor),
            )
        )
        .mappings()
        .first()
    )


def corpus_types(conn: sa.Connection, corpus_id: str) -> Sequence[Row]:
    g = live_generation(conn, DOCUMENTS)
    return (
        conn.execute(
            sa.select(rm_element_types)
            .where(
                rm_element_types.c.generation == g,
                rm_element_types.c.corpus_id == corpus_id,
            )
            .order_by(rm_element_types.c.slug, rm_element_types.c.type_id)
        )
        .mappings()
        .all()
    )


def get_element_type(conn: sa.Connection, actor: Actor, type_id: str) -> Row | None:
    g = live_generation(conn, DOCUMENTS)
    return (
        conn.execute(
            sa.select(rm_element_types)
            .join(
                rm_corpora,
                sa.and_(rm_corpora.c.generation == g, rm_corpora.c.corpus_id == rm_element_types.c.corpus_id),
            )
            .where(
                rm_element_types.c.generation == g,
                rm_element_types.c.type_id == type_id,
                _corpus_visible(actor),
            )
        )
        .mappings()
        .first()
    )


def list_ml_classes(
    conn: sa.Connection,
    actor: Actor,
    corpus_id: str,
    *,
    search: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Page | None:
    """ML classes of a visible corpus, by name then id; None when the corpus is not visible."""
    if get_corpus(conn, actor, corpus_id) is None:
        return None
    g = live_generation(conn, DOCUMENTS)
    query = sa.select(rm_ml_classes).where(
        rm_ml_classes.c.generation == g, rm_ml_classes.c.corpus_id == corpus_id
    )
    if search:
        query = query.where(rm_ml_classes.c.name.ilike(f"%{_escape(search)}%", escape="\\"))
    return _page(conn, query, [rm_ml_classes.c.name, rm_ml_classes.c.class_id], offset, limit)


def get_ml_class(conn: sa.Connection, class_id: str) -> Row | None:
    g = live_generation(conn, DOCUMENTS)
    return (
        conn.execute(
            sa.select(rm_ml_classes).where(
                rm_ml_classes.c.generation == g,
                rm_ml_classes.c.class_id == class_id,
            )
        )
        .mappings()
        .first()
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- elements ------------------------------------------------------------------------------


def _elements_query(conn: sa.Connection, actor: Actor) -> sa.Select[Any]:
    g = live_generation(conn, DOCUMENTS)
    query = (
        sa.select(
            rm_elements, rm_corpora.c.name.label("corpus_name"), rm_users.c.username.label("creator_name")
        )
        .join(
            rm_corpora,
            sa.and_(rm_corpora.c.generation == g, rm_corpora.c.corpus_id == rm_elements.c.corpus_id),
        )
        .outerjoin(
            rm_users,
            sa.and_(
                rm_users.c.generation == live_generation(conn, "catalog"),
                rm_users.c.user_id == rm_elements.c.user_id,
            ),
        )
        .where(rm_elements.c.generation == g, _corpus_visible(actor))
    )
    query = with_image(query, conn, rm_elements.c.image_id)  # issue 10: the zone's image
    return _with_run(query, rm_elements, conn)


def get_element(conn: sa.Connection, actor: Actor, element_id: str) -> Row | None:
    return (
        conn.execute(_elements_query(conn, actor).where(rm_elements.c.element_id == element_id))
        .mappings()
        .first()
    )


def _run_filter(table: sa.Table, worker_run: str | None) -> sa.ColumnElement[bool]:
    """`worker_run=<uuid>`: signed by that run; `worker_run=false`: created without a run."""
    if worker_run is None:
        return sa.true()
    if worker_run.lower() == "false":
        return table.c.worker_run_id.is_(None)
    return table.c.worker_run_id == str(uuid.UUID(worker_run))  # ids are stored in canonical form


def _subtree(conn: sa.Connection, element_id: str, *, include_root: bool) -> sa.Select[Any]:
    """The ids of an element's descendants (and the element itself with include_root), read from
    the closure of the parent links (issue 10 B: every parent, not only the one at creation)."""
    g = live_generation(conn, DOCUMENTS)
    below = sa.select(rm_element_paths.c.descendant_id.label("element_id")).where(
        rm_element_paths.c.generation == g, rm_element_paths.c.ancestor_id == element_id
    )
    if not include_root:
        return below
    return sa.select(sa.union_all(below, sa.select(sa.literal(element_id).label("element_id"))).subquery())


def element_classifications(conn: sa.Connection, element_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Classifications of these elements with their class names (for RetrieveElement, with_classes)."""
    if not element_ids:
        return {}
    g = live_generation(conn, DOCUMENTS)
    query = _with_run(
        sa.select(rm_classifications, rm_ml_classes.c.name.label("class_name"))
        .join(
            rm_ml_classes,
            sa.and_(
                rm_ml_classes.c.generation == g,
                rm_ml_classes.c.class_id == rm_classifications.c.ml_class_id,
            ),
        )
        .where(rm_classifications.c.generation == g, rm_classifications.c.element_id.in_(list(element_ids))),
        rm_classifications,
        conn,
    ).order_by(rm_classifications.c.created_position, rm_classifications.c.classification_id)
    result: dict[str, list[Row]] = {element_id: [] for element_id in element_ids}
    for row in conn.execute(query).mappings():
        result[row["element_id"]].append(row)
    return result


# --- transcriptions --------------------------------------------------------------------------


def _transcriptions_query(conn: sa.Connection) -> sa.Select[Any]:
    g = live_generation(conn, DOCUMENTS)
    return _with_run(
        sa.select(
            rm_transcriptions,
            rm_elements.c.name.label("element_name"),
            rm_elements.c.type.label("element_type"),
            rm_elements.c.corpus_id.label("corpus_id"),
        )
        .join(
            rm_elements,
            sa.and_(
                rm_elements.c.generation == g,
                rm_elements.c.element_id == rm_transcriptions.c.element_id,
            ),
        )
        .where(rm_transcriptions.c.generation == g),
        rm_transcriptions,
        conn,
    )


def list_transcriptions(
    conn: sa.Connection,
    actor: Actor,
    element_id: str,
    *,
    worker_run: str | None = None,
    element_type: str | None = None,
    recursive: bool = False,
    offset: int = 0,
    limit: int = 20,
) -> Page | None:
    """Transcriptions of a visible element (and its descendants if recursive), oldest first."""
    if get_element(conn, actor, element_id) is None:
        return None
    query = _transcriptions_query(conn).where(_run_filter(rm_transcriptions, worker_run))
    if recursive:
        query = query.where(rm_transcriptions.c.element_id.in_(_subtree(conn, element_id, include_root=True)))
    else:
        query = query.where(rm_transcriptions.c.element_id == element_id)
    if element_type is not None:
        query = query.where(rm_elements.c.type == element_type)
    order = [rm_transcriptions.c.created_position, rm_transcriptions.c.transcription_id]
    return _page(conn, query, order, offset, limit)


def get_transcription(conn: sa.Connection, actor: Actor, transcription_id: str) -> Row | None:
    g = live_generation(conn, DOCUMENTS)
    query = (
        _transcriptions_query(conn)
        .join(
            rm_corpora,
            sa.and_(rm_corpora.c.generation == g, rm_corpora.c.corpus_id == rm_elements.c.corpus_id),
        )
        .where(rm_transcriptions.c.transcription_id == transcription_id, _corpus_visible(actor))
    )
    return conn.execute(query).mappings().first()


# --- provenance: what a run (or a user without a run) produced; who produced an object -------


def _signed_union(where: Any, kinds: Sequence[str], keyset: Keyset | None) -> sa.Subquery:
    """Every signed object matching `where(table)` as (type, id, element_id, label, user_id,
    worker_run_id, created_at, created_position), across the object tables of `kinds`: the
    whole list without a keyset.

    With one, the cursor's predicate, order and limit are pushed into each branch too: a branch then
    reads at most a page from its (generation, worker_run_id|user_id, created_position)
    index, instead of every remaining row of the run being sorted for each page.
    """
    g: sa.BindParameter[Any] = sa.bindparam("generation")
    parts: list[Any] = []
    labels = {
        "element": rm_elements.c.name,
        "transcription": rm_transcriptions.c.text,
        # The class name, not its id: what a person reading "what did this run produce" wants.
        "classification": sa.select(rm_ml_classes.c.name)
        .where(
            rm_ml_classes.c.generation == g,
            rm_ml_classes.c.class_id == rm_classifications.c.ml_class_id,
        )
        .scalar_subquery(),
        "metadata": rm_metadata.c.name,
    }
    for kind in kinds:
        table, id_column = SIGNED_TABLES[kind]
        element_id = table.c.element_id if kind != "element" else table.c.parent_id
        branch = sa.select(
            sa.literal(kind).label("type"),
            table.c[id_column].label("id"),
            element_id.label("element_id"),
            sa.cast(labels[kind], sa.Text).label("label"),
            table.c.user_id,
            table.c.worker_run_id,
            table.c.created_at,
            table.c.created_position,
        ).where(table.c.generation == g, where(table))
        if keyset is None:
            parts.append(branch)
            continue
        # The branch's own sort columns: its type is a constant, compared in Python.
        columns = [table.c.created_position, sa.literal(kind), table.c[id_column]]
        if keyset.after is not None:
            branch = branch.where(keyset_beyond(SIGNED_ORDER, columns, keyset.after, keyset.backwards))
        branch = branch.order_by(*keyset_order(SIGNED_ORDER, columns, keyset.backwards))
        branch = branch.limit(keyset.limit + 1)
        # SQLite refuses ORDER BY/LIMIT on a compound member: wrap each branch.
        parts.append(sa.select(branch.subquery(f"signed_{kind}")))
    return sa.union_all(*parts).subquery("signed")


#: creation order: event position (one event per object), then type and id, a unique key last
SIGNED_ORDER: tuple[SortKey, ...] = (
    SortKey(sa.column("created_position"), "created_position"),
    SortKey(sa.column("type"), "type"),
    SortKey(sa.column("id"), "id"),
)


def list_signed(
    conn: sa.Connection,
    *,
    worker_run_id: str | None,
    user_id: str | None = None,
    type: str | None = None,
    keyset: Keyset = FIRST_PAGE,
) -> KeysetPage:
    """Objects signed by `worker_run_id`, or (worker_run_id None) created by `user_id` without a
    run; a cursor page in creation order (event position, type, id). Each branch uses an
    (generation, worker_run_id|user_id, created_position) index."""

    def where(table: sa.Table) -> sa.ColumnElement[bool]:
        if worker_run_id is not None:
            return table.c.worker_run_id == worker_run_id
        return sa.and_(table.c.user_id == user_id, table.c.worker_run_id.is_(None))

    kinds = [type] if type is not None else list(SIGNED_TABLES)
    params = {"generation": live_generation(conn, DOCUMENTS)}
    count = None
    if keyset.with_count:
        # The whole list, not what is left beyond the cursor.
        whole = _signed_union(where, kinds, None)
        count = conn.execute(sa.select(sa.func.count()).select_from(whole), params).scalar_one()
    signed = _signed_union(where, kinds, keyset)
    sort = [SortKey(signed.c[key.name], key.name) for key in SIGNED_ORDER]
    page = _keyset(conn, sa.select(signed), sort, dataclasses.replace(keyset, with_count=False), params)
    return dataclasses.replace(page, count=count)


def count_signed(conn: sa.Connection, worker_run_id: str) -> dict[str, int]:
    """How many objects of each type `worker_run_id` signed (a run's page, the retraction's
    confirmation), retracted or not: one indexed count per object table."""
    g = live_generation(conn, DOCUMENTS)
    counts = {}
    for kind, (table, _id_column) in SIGNED_TABLES.items():
        counts[kind] = conn.execute(
            sa.select(sa.func.count()).select_from(table).where(
                table.c.generation == g, table.c.worker_run_id == worker_run_id
            )
        ).scalar_one()
    return counts


def get_retraction(conn: sa.Connection, run_id: str) -> Row | None:
    """Who retracted the run and when (issue 14), or None while it is not retracted."""
    return (
        conn.execute(
            sa.select(rm_retracted_runs).where(_retraction_of(conn, run_id))
        )
        .mappings()
        .first()
    )


@dataclass(frozen=True)
class SignedObject:
    type: str
    row: Row


def find_signed(conn: sa.Connection, actor: Actor, object_id: str) -> SignedObject | None:
    """The object with this id, whatever its type, if the actor may read it."""
    g = live_generation(conn, DOCUMENTS)
    for kind, (table, id_column) in SIGNED_TABLES.items():
        query = sa.select(table, rm_corpora.c.corpus_id.label("owning_corpus_id"))
        if kind == "element":
            query = query.join(
                rm_corpora, sa.and_(rm_corpora.c.generation == g, rm_corpora.c.corpus_id == table.c.corpus_id)
            )
        else:
            query = query.join(
                rm_elements,
                sa.and_(
                    rm_elements.c.generation == g,
                    rm_elements.c.element_id == table.c.element_id,
                ),
            ).join(
                rm_corpora,
                sa.and_(rm_corpora.c.generation == g, rm_corpora.c.corpus_id == rm_elements.c.corpus_id),
            )
        row = (
            conn.execute(
                _with_run(query, table, conn, include_retracted=True).where(
                    table.c.generation == g,
                    table.c[id_column] == object_id,
                    _corpus_visible(actor),
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            return SignedObject(kind, row)
    return None


def run_summaries(conn: sa.Connection, run_ids: set[str]) -> dict[str, str | None]:
    if not run_ids:
        return {}
    g = live_generation(conn, USER_RUNS)
    rows = conn.execute(
        sa.select(rm_user_runs.c.run_id, rm_user_runs.c.summary).where(
            rm_user_runs.c.generation == g,
            rm_user_runs.c.run_id.in_(list(run_ids)),
        )
    )
    return {row.run_id: row.summary for row in rows}


def list_element_metadata(
    conn: sa.Connection,
    actor: Actor,
    element_id: str,
    *,
    load_parents: bool = False,
    worker_run: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Page | None:
    """Metadata of a visible element (and of its ancestors with `load_parents`), by name, then
    oldest first; None when the element is not visible."""
    if get_element(conn, actor, element_id) is None:
        return None
    g = live_generation(conn, DOCUMENTS)
    where: sa.ColumnElement[bool]
    if load_parents:
        # Every ancestor, through any of its parents (the closure of the parent links).
        ancestors = sa.select(rm_element_paths.c.ancestor_id).where(
            rm_element_paths.c.generation == g, rm_element_paths.c.descendant_id == element_id
        )
        where = sa.or_(rm_metadata.c.element_id == element_id, rm_metadata.c.element_id.in_(ancestors))
    else:
        where = rm_metadata.c.element_id == element_id
    query = _with_run(
        sa.select(rm_metadata).where(
            rm_metadata.c.generation == g, where, _run_filter(rm_metadata, worker_run)
        ),
        rm_metadata,
        conn,
    )
    order = [rm_metadata.c.name, rm_metadata.c.created_position, rm_metadata.c.metadata_id]
    return _page(conn, query, order, offset, limit)
