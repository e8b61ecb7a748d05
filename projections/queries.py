"""The read side: queries over the read-model tables, always on the live generation.

Plain SQLAlchemy Core, one function per question the API asks. Every query:
- filters each table on the live generation of the projection that owns it (a rebuild
  writes generation N+1 beside the live one; see projections/tables.py);
- uses an index of projections/tables.py (or the trigram index for "name contains");
- orders on a unique key last, so a page is stable for a given page size.

Visibility rules live here too, as SQL: a worker is visible to its owner, to users it was
granted to and to admins; a model to its owner and admins; a user worker run only to its
creator (and admins). Callers get `None` for "not visible", which the API answers as 404,
exactly like "does not exist".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.actor import Actor
from projections.consistency import projection_position
from projections.generations import live_generation
from projections.tables import (
    rm_model_versions,
    rm_models,
    rm_user_runs,
    rm_worker_access,
    rm_worker_configurations,
    rm_worker_types,
    rm_worker_versions,
    rm_workers,
)

CATALOG = "catalog"
USER_RUNS = "user_runs"

Row = sa.RowMapping


@dataclass(frozen=True)
class Page:
    """One page of a list: the exact total and the rows of the page."""

    count: int
    rows: Sequence[Row]


def _page(
    conn: sa.Connection, query: sa.Select[Any], order_by: Sequence[Any], offset: int, limit: int,
) -> Page:
    count = conn.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    if offset >= count:
        return Page(count, [])
    rows = conn.execute(query.order_by(*order_by).offset(offset).limit(limit)).mappings().all()
    return Page(count, rows)


# --- keyset (cursor) pages -------------------------------------------------------------------
#
# For lists that grow while clients page through them (provenance listings grow with every
# bulk import): a page starts strictly beyond the sort key of a row, so appended rows never
# shift what a client has already read, and the database seeks with an index instead of
# skipping OFFSET rows (a walk through N rows is O(N), not O(N^2)).


@dataclass(frozen=True)
class SortKey:
    """One column of a list's total order; `name` is its key in the result rows."""

    column: sa.ColumnElement[Any]
    name: str
    descending: bool = False


@dataclass(frozen=True)
class Keyset:
    """Which cursor page to read: `limit` rows beyond the row whose sort key is `after`
    (from the start when None), forwards or, for a `previous` link, backwards."""

    after: tuple[Any, ...] | None = None
    backwards: bool = False
    limit: int = 20
    #: an exact count of the whole list costs a scan: only when the caller asks for it
    with_count: bool = False


#: the default page of a keyset list: from the start, forwards
FIRST_PAGE = Keyset()


@dataclass(frozen=True)
class KeysetPage:
    """Rows in list order, whether rows exist either side, and the count when asked for."""

    rows: Sequence[Row]
    has_next: bool
    has_previous: bool
    count: int | None
    sort: Sequence[SortKey]

    def key(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[key.name] for key in self.sort)


def _beyond_value(column: Any, value: Any, greater: bool, *, strict: bool) -> Any:
    # A constant sort column (a UNION branch's literal type) is compared here rather than in
    # SQL: the branch's predicate then reduces to a plain index range.
    if isinstance(column, sa.BindParameter):
        mine = column.value
        beyond = mine > value if greater else mine < value
        return sa.true() if beyond or (not strict and mine == value) else sa.false()
    if greater:
        return column > value if strict else column >= value
    return column < value if strict else column <= value


def _equal_value(column: Any, value: Any) -> Any:
    if isinstance(column, sa.BindParameter):
        return sa.true() if column.value == value else sa.false()
    return column == value


def keyset_beyond(
    sort: Sequence[SortKey], columns: Sequence[Any], after: tuple[Any, ...], backwards: bool,
) -> sa.ColumnElement[bool]:
    """Rows strictly beyond the key `after` in reading order, on `columns` (the sort's columns,
    or a UNION branch's own). Expanded as (a > x) OR (a = x AND b > y) ..., which works for
    mixed directions on both databases, plus a redundant `a >= x` so the leading column is an
    index range."""
    terms = []
    for i, (key, column) in enumerate(zip(sort, columns, strict=True)):
        greater = key.descending == backwards
        prefix = [_equal_value(columns[j], after[j]) for j in range(i)]
        terms.append(sa.and_(*prefix, _beyond_value(column, after[i], greater, strict=True)))
    leading = _beyond_value(columns[0], after[0], sort[0].descending == backwards, strict=False)
    return sa.and_(leading, sa.or_(*terms))


def keyset_order(sort: Sequence[SortKey], columns: Sequence[Any], backwards: bool) -> list[Any]:
    """ORDER BY in reading order (reversed to read backwards from a cursor)."""
    return [
        column.desc() if key.descending != backwards else column.asc()
        for key, column in zip(sort, columns, strict=True)
        if not isinstance(column, sa.BindParameter)
    ]


def _keyset(
    conn: sa.Connection, query: sa.Select[Any], sort: Sequence[SortKey], keyset: Keyset,
    params: dict[str, Any] | None = None,
) -> KeysetPage:
    """One cursor page of `query`, whose total order is `sort` (its last key unique).

    Reads one row more than the page to know whether another page follows. Going forwards
    from a cursor there is always a previous page (the cursor's own row); going backwards,
    always a next one. That is what DRF's CursorPagination does, and it saves a query.
    """
    columns = [key.column for key in sort]
    count = None
    if keyset.with_count:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(query.order_by(None).subquery()), params or {},
        ).scalar_one()
    if keyset.after is not None:
        query = query.where(keyset_beyond(sort, columns, keyset.after, keyset.backwards))
    rows = list(conn.execute(
        query.order_by(*keyset_order(sort, columns, keyset.backwards)).limit(keyset.limit + 1), params or {},
    ).mappings().all())
    more = len(rows) > keyset.limit
    rows = rows[:keyset.limit]
    started = keyset.after is not None
    if keyset.backwards:
        rows.reverse()
        return KeysetPage(rows, has_next=started, has_previous=more, count=count, sort=sort)
    return KeysetPage(rows, has_next=more, has_previous=started, count=count, sort=sort)


def _escape_like(text: str) -> str:
    """User text -> a LIKE pattern matching it literally (with `\\` as the escape char)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _labelled(table: sa.Table, prefix: str) -> list[sa.Label[Any]]:
    return [column.label(f"{prefix}{column.name}") for column in table.c if column.name != "generation"]


# --- workers -----------------------------------------------------------------------------------


def _worker_visible(
    actor: Actor, generation: int, workers: sa.FromClause = rm_workers,
) -> sa.ColumnElement[bool]:
    if actor.is_admin:
        return sa.true()
    granted = sa.exists().where(
        rm_worker_access.c.generation == generation,
        rm_worker_access.c.worker_id == workers.c.worker_id,
        rm_worker_access.c.user_id == actor.user_id,
    )
    return sa.or_(workers.c.owner_id == actor.user_id, granted)


def _worker_filters(
    workers: sa.Table, type: str | None, name: str | None, archived: bool | None,
) -> list[sa.ColumnElement[bool]]:
    filters = []
    if type is not None:
        filters.append(workers.c.type == type)
    if name:
        # ILIKE on PostgreSQL (served by the trigram index), lower() LIKE lower() on SQLite.
        filters.append(workers.c.name.ilike(f"%{_escape_like(name)}%", escape="\\"))
    if archived is not None:
        filters.append(workers.c.archived.is_(archived))
    return filters


def list_workers(
    conn: sa.Connection,
    actor: Actor,
    *,
    type: str | None = None,
    name: str | None = None,
    archived: bool | None = False,
    offset: int = 0,
    limit: int = 20,
) -> Page:
    """Workers available to `actor`, by name then id.

    For a user, the visible workers are "owned by me" and, disjoint from it, "granted to me
    and owned by someone else", as a UNION ALL: each branch is an index range
    (ix_rm_workers_owner_name; rm_worker_access by user), so PostgreSQL merges two
    name-ordered scans and stops at the page, and counts with index-only scans. (The same rule
    as one `owner = me OR EXISTS (grant)` filter can only be checked row by row over every
    worker of the generation.) An admin sees every worker: the name index, or the trigram
    index with the generation for a name search."""
    generation = live_generation(conn, CATALOG)
    w, access = rm_workers, rm_worker_access
    filters = _worker_filters(w, type, name, archived)
    if actor.is_admin:
        query = sa.select(w).where(w.c.generation == generation, *filters)
        return _page(conn, query, [w.c.name, w.c.worker_id], offset, limit)
    owned = sa.select(w).where(w.c.generation == generation, w.c.owner_id == actor.user_id, *filters)
    granted = (
        sa.select(w)
        .join(access, sa.and_(
            access.c.generation == generation,
            access.c.user_id == actor.user_id,
            access.c.worker_id == w.c.worker_id,
        ))
        .where(w.c.generation == generation, w.c.owner_id != actor.user_id, *filters)
    )
    visible = sa.union_all(owned, granted).subquery("visible")
    return _page(conn, sa.select(visible), [visible.c.name, visible.c.worker_id], offset, limit)


def get_worker(conn: sa.Connection, actor: Actor, worker_id: str) -> Row | None:
    generation = live_generation(conn, CATALOG)
    return conn.execute(
        sa.select(rm_workers).where(
            rm_workers.c.generation == generation, rm_workers.c.worker_id == worker_id,
            _worker_visible(actor, generation),
        )
    ).mappings().first()


def list_worker_types(conn: sa.Connection, *, offset: int = 0, limit: int = 20) -> Page:
    """Every worker type (types are shared by all users), by slug."""
    generation = live_generation(conn, CATALOG)
    query = sa.select(rm_worker_types).where(rm_worker_types.c.generation == generation)
    return _page(conn, query, [rm_worker_types.c.slug], offset, limit)


# --- worker versions ---------------------------------------------------------------------------


def _versions_query(generation: int) -> sa.Select[Any]:
    return (
        sa.select(rm_worker_versions, *_labelled(rm_workers, "worker_"))
        .join(rm_workers, sa.and_(
            rm_workers.c.generation == generation, rm_workers.c.worker_id == rm_worker_versions.c.worker_id,
        ))
        .where(rm_worker_versions.c.generation == generation)
    )


def list_worker_versions(
    conn: sa.Connection,
    actor: Actor,
    worker_id: str,
    *,
    state: str | None = None,
    archived: bool | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Page | None:
    """Versions of a visible worker, newest first; None when the worker is not visible."""
    if get_worker(conn, actor, worker_id) is None:
        return None
    generation = live_generation(conn, CATALOG)
    query = _versions_query(generation).where(rm_worker_versions.c.worker_id == worker_id)
    if state is not None:
        query = query.where(rm_worker_versions.c.state == state)
    if archived is not None:
        query = query.where(rm_worker_versions.c.archived.is_(archived))
    return _page(
        conn, query, [rm_worker_versions.c.number.desc(), rm_worker_versions.c.version_id], offset, limit,
    )


def get_worker_version(conn: sa.Connection, actor: Actor, version_id: str) -> Row | None:
    generation = live_generation(conn, CATALOG)
    return conn.execute(
        _versions_query(generation).where(
            rm_worker_versions.c.version_id == version_id, _worker_visible(actor, generation),
        )
    ).mappings().first()


# --- worker configurations ---------------------------------------------------------------------


def list_worker_configurations(
    conn: sa.Connection, actor: Actor, worker_id: str, *, offset: int = 0, limit: int = 20,
) -> Page | None:
    """Configurations of a visible worker, by name then id; None when the worker is not visible."""
    if get_worker(conn, actor, worker_id) is None:
        return None
    generation = live_generation(conn, CATALOG)
    query = sa.select(rm_worker_configurations).where(
        rm_worker_configurations.c.generation == generation,
        rm_worker_configurations.c.worker_id == worker_id,
    )
    order = [rm_worker_configurations.c.name, rm_worker_configurations.c.configuration_id]
    return _page(conn, query, order, offset, limit)


def get_worker_configuration(conn: sa.Connection, actor: Actor, configuration_id: str) -> Row | None:
    generation = live_generation(conn, CATALOG)
    return conn.execute(
        sa.select(rm_worker_configurations)
        .join(rm_workers, sa.and_(
            rm_workers.c.generation == generation,
            rm_workers.c.worker_id == rm_worker_configurations.c.worker_id,
        ))
        .where(
            rm_worker_configurations.c.generation == generation,
            rm_worker_configurations.c.configuration_id == configuration_id,
            _worker_visible(actor, generation),
        )
    ).mappings().first()


# --- models --------------------------------------------------------------------------------------


def _model_visible(actor: Actor) -> sa.ColumnElement[bool]:
    return sa.true() if actor.is_admin else rm_models.c.owner_id == actor.user_id


def list_models(conn: sa.Connection, actor: Actor, *, offset: int = 0, limit: int = 20) -> Page:
    generation = live_generation(conn, CATALOG)
    query = sa.select(rm_models).where(rm_models.c.generation == generation, _model_visible(actor))
    return _page(conn, query, [rm_models.c.name, rm_models.c.model_id], offset, limit)


def get_model(conn: sa.Connection, actor: Actor, model_id: str) -> Row | None:
    generation = live_generation(conn, CATALOG)
    return conn.execute(
        sa.select(rm_models).where(
            rm_models.c.generation == generation, rm_models.c.model_id == model_id, _model_visible(actor),
        )
    ).mappings().first()


def _model_versions_query(generation: int) -> sa.Select[Any]:
    return (
        sa.select(rm_model_versions, rm_models.c.name.label("model_name"))
        .join(rm_models, sa.and_(
            rm_models.c.generation == generation, rm_models.c.model_id == rm_model_versions.c.model_id,
        ))
        .where(rm_model_versions.c.generation == generation)
    )


def list_model_versions(
    conn: sa.Connection, actor: Actor, model_id: str, *, offset: int = 0, limit: int = 20,
) -> Page | None:
    """Versions of a visible model, newest first; None when the model is not visible."""
    if get_model(conn, actor, model_id) is None:
        return None
    generation = live_generation(conn, CATALOG)
    query = _model_versions_query(generation).where(rm_model_versions.c.model_id == model_id)
    order = [rm_model_versions.c.number.desc(), rm_model_versions.c.model_version_id]
    return _page(conn, query, order, offset, limit)


def get_model_version(conn: sa.Connection, actor: Actor, model_version_id: str) -> Row | None:
    generation = live_generation(conn, CATALOG)
    return conn.execute(
        _model_versions_query(generation).where(
            rm_model_versions.c.model_version_id == model_version_id, _model_visible(actor),
        )
    ).mappings().first()


# --- user worker runs ----------------------------------------------------------------------------


def _runs_query(runs_generation: int, catalog_generation: int) -> sa.Select[Any]:
    """Runs with everything a WorkerRun shows: version, worker, configuration, model version, model.

    Outer joins: the two projections advance independently, so a run can be projected a
    moment before its worker version is; such a run is still listed (and counted).
    """
    g = catalog_generation
    v, w, c, mv, m = rm_worker_versions, rm_workers, rm_worker_configurations, rm_model_versions, rm_models
    return (
        sa.select(
            rm_user_runs,
            # labelled as the WorkerRun shape nests them (api/catalog/schemas.py): the version's worker
            # under the version, the model's name under the model version
            *_labelled(v, "v_"), *_labelled(w, "v_worker_"), *_labelled(c, "c_"),
            *_labelled(mv, "mv_"), m.c.name.label("mv_model_name"),
        )
        .select_from(rm_user_runs)
        .outerjoin(v, sa.and_(v.c.generation == g, v.c.version_id == rm_user_runs.c.worker_version_id))
        .outerjoin(w, sa.and_(w.c.generation == g, w.c.worker_id == rm_user_runs.c.worker_id))
        .outerjoin(c, sa.and_(c.c.generation == g, c.c.configuration_id == rm_user_runs.c.configuration_id))
        .outerjoin(mv, sa.and_(
            mv.c.generation == g, mv.c.model_version_id == rm_user_runs.c.model_version_id,
        ))
        .outerjoin(m, sa.and_(m.c.generation == g, m.c.model_id == mv.c.model_id))
        .where(rm_user_runs.c.generation == runs_generation)
    )


def list_user_runs(conn: sa.Connection, user_id: str, *, offset: int = 0, limit: int = 20) -> Page:
    """The user's own user worker runs, newest first (index (generation, user_id, created_position))."""
    runs_generation = live_generation(conn, USER_RUNS)
    catalog_generation = live_generation(conn, CATALOG)
    count = conn.execute(
        sa.select(sa.func.count()).select_from(rm_user_runs).where(
            rm_user_runs.c.generation == runs_generation, rm_user_runs.c.user_id == user_id,
        )
    ).scalar_one()
    if offset >= count:
        return Page(count, [])
    rows = conn.execute(
        _runs_query(runs_generation, catalog_generation)
        .where(rm_user_runs.c.user_id == user_id)
        .order_by(rm_user_runs.c.created_position.desc(), rm_user_runs.c.run_id)
        .offset(offset).limit(limit)
    ).mappings().all()
    return Page(count, rows)


def get_user_run(conn: sa.Connection, actor: Actor, run_id: str) -> Row | None:
    """A run, for its creator (or an admin) only."""
    query = _runs_query(live_generation(conn, USER_RUNS), live_generation(conn, CATALOG)).where(
        rm_user_runs.c.run_id == run_id,
    )
    if not actor.is_admin:
        query = query.where(rm_user_runs.c.user_id == actor.user_id)
    return conn.execute(query).mappings().first()


# --- health --------------------------------------------------------------------------------------


def projection_positions(conn: sa.Connection, names: Sequence[str]) -> dict[str, int]:
    """Checkpoint of the live generation of each projection (0 when it never ran)."""
    return {name: projection_position(conn, name) for name in names}
