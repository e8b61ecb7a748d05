"""Apply projector operations (projections/ops.py) to the read-model tables.

`Upsert` becomes `INSERT … ON CONFLICT (generation, key…) DO UPDATE` (or `DO NOTHING` when
there is nothing to overwrite, or the first write wins), `Update` becomes
`UPDATE … WHERE generation = … AND key…`. Both are idempotent, which is what makes redelivery
harmless: the checkpoint written in the same transaction (projections/runner.py) is the first
guard, idempotent operations the second.

Every row is written with the generation it belongs to (see projections/tables.py), so a
rebuild can fill generation N+1 beside the live one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa

from eventstore.log_consumer import insert_for
from projections import tables
from projections.ops import LinkPaths, Op, Update, Upsert
from projections.paths import apply_links


class UnknownReadModel(Exception):
    """An operation names a table or column that is not a read model: a projector bug."""


def read_model_table(name: str) -> sa.Table:
    table = tables.metadata.tables.get(name)
    if table is None or "generation" not in table.c:
        raise UnknownReadModel(f"{name!r} is not a read-model table")
    return table


def _check_columns(table: sa.Table, names: Iterable[str]) -> None:
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise UnknownReadModel(f"{table.name} has no column(s) {', '.join(sorted(unknown))}")


@cache
def _upsert_statement(
    dialect: str, table: sa.Table, key: tuple[str, ...], values: tuple[str, ...], first_wins: bool,
) -> Any:
    # Built once per shape: `excluded` makes a proxy of every column on each build.
    stmt = insert_for(dialect, table)
    conflict = ["generation", *key]
    if not values or first_wins:
        return stmt.on_conflict_do_nothing(index_elements=conflict)
    return stmt.on_conflict_do_update(
        index_elements=conflict, set_={name: stmt.excluded[name] for name in values},
    )


@cache
def _update_statement(table: sa.Table, key: tuple[str, ...], values: tuple[str, ...]) -> Any:
    """`UPDATE … SET values WHERE generation AND key`, with bind parameters for executemany."""
    where = [table.c.generation == sa.bindparam("k_generation"),
             *(table.c[k] == sa.bindparam(f"k_{k}") for k in key)]
    return table.update().where(*where).values({v: sa.bindparam(f"v_{v}") for v in values})


@cache
def _row_key(table: sa.Table) -> frozenset[str]:
    """The columns that name one row of `table` (its primary key without the generation)."""
    return frozenset(c.name for c in table.primary_key.columns) - {"generation"}


def _groups(ops: Sequence[Op]) -> Iterable[list[Op]]:
    """The operations as groups that each run as one statement (or one executemany), in an
    order with the same effect as theirs.

    Operations on different tables commute (each writes, and `LinkPaths` reads, its own table
    only; the read models have no foreign keys), and so do operations on different rows of a
    table. So each table's operations are put in layers: an operation on a row goes to the
    first layer after the last one that touched that row; one that is not keyed by a row
    (`LinkPaths`, or a key that is not the primary key) is a barrier, in a layer after all
    before it. Within a layer, operations of one shape (kind, key and value columns) form a
    group, never the same row twice: across a batch, a table's upserts become one group or a
    few, not one per run of consecutive events.
    """
    by_table: dict[str, list[Op]] = {}
    for op in ops:
        by_table.setdefault(op.table, []).append(op)
    for name, table_ops in by_table.items():
        row_key = _row_key(read_model_table(name))
        layers: list[dict[tuple[Any, ...], list[Op]]] = []
        touched: dict[tuple[Any, ...], int] = {}  # row -> the last layer that wrote it
        floor = 0  # the first layer after the last barrier
        for op in table_ops:
            if isinstance(op, LinkPaths) or set(op.key) != row_key:
                shape: tuple[Any, ...] = ("links",) if isinstance(op, LinkPaths) else ("barrier", id(op))
                if not (layers and shape == ("links",) and set(layers[-1]) == {shape}):
                    layers.append({})  # consecutive links share a layer; they run in order
                layers[-1].setdefault(shape, []).append(op)
                floor = len(layers)
                continue
            row = tuple(sorted(op.key.items()))
            layer = max(floor, touched.get(row, -1) + 1)
            if layer == len(layers):
                layers.append({})
            # first-wins upserts keep the row already there: a shape of their own
            kind = ("upsert", op.first_wins) if isinstance(op, Upsert) else ("update", False)
            layers[layer].setdefault((kind, tuple(op.key), tuple(op.values)), []).append(op)
            touched[row] = layer
        for layer_groups in layers:
            yield from layer_groups.values()


def apply_ops(conn: sa.Connection, ops: Sequence[Op], generation: int) -> None:
    """Write `ops` as rows of `generation`, inside the caller's transaction, with the effect of
    running them in order (see `_groups`)."""
    dialect = conn.dialect.name
    for group in _groups(ops):
        first = group[0]
        table = read_model_table(first.table)
        if isinstance(first, LinkPaths):
            apply_links(conn, [op for op in group if isinstance(op, LinkPaths)], generation)
            continue
        _check_columns(table, [*first.key, *first.values])
        if isinstance(first, Upsert):
            stmt = _upsert_statement(dialect, table, tuple(first.key), tuple(first.values), first.first_wins)
            upserts = [op for op in group if isinstance(op, Upsert)]
            rows = [{"generation": generation, **op.key, **op.values} for op in upserts]
            # One executemany per group (psycopg pipelines it). Not a multi-row VALUES: SQLAlchemy
            # compiles one afresh for every call (measured: slower than the pipeline).
            conn.execute(stmt, rows)
        elif isinstance(first, Update):
            if not first.values:
                continue
            stmt = _update_statement(table, tuple(first.key), tuple(first.values))
            conn.execute(stmt, [
                {"k_generation": generation, **{f"k_{k}": v for k, v in op.key.items()},
                 **{f"v_{k}": v for k, v in op.values.items()}}
                for op in group if isinstance(op, Update)
            ])
        else:  # pragma: no cover - Op is a closed union
            raise UnknownReadModel(f"unknown operation {first!r}")


def delete_generation(conn: sa.Connection, table_names: Iterable[str], generation: int) -> int:
    """Delete every row of `generation` from the given read-model tables; returns the count."""
    deleted = 0
    for name in table_names:
        table = read_model_table(name)
        deleted += conn.execute(table.delete().where(table.c.generation == generation)).rowcount or 0
    return deleted


def delete_generations_except(conn: sa.Connection, table_names: Iterable[str], keep: Iterable[int]) -> int:
    """Delete rows of any generation not in `keep` (leftovers of an interrupted switch)."""
    keep = list(keep)
    deleted = 0
    for name in table_names:
        table = read_model_table(name)
        deleted += conn.execute(table.delete().where(table.c.generation.not_in(keep))).rowcount or 0
    return deleted
