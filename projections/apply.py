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
from typing import Any

import sqlalchemy as sa

from eventstore.log_consumer import dialect_insert
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


def _upsert_statement(
    conn: sa.Connection, table: sa.Table, key: Sequence[str], values: Sequence[str], first_wins: bool,
) -> Any:
    stmt = dialect_insert(conn, table)
    conflict = ["generation", *key]
    if not values or first_wins:
        return stmt.on_conflict_do_nothing(index_elements=conflict)
    return stmt.on_conflict_do_update(
        index_elements=conflict, set_={name: stmt.excluded[name] for name in values},
    )


def _groups(ops: Sequence[Op]) -> Iterable[list[Op]]:
    """Consecutive operations that can run as one executemany, in their original order.

    A group holds upserts of one table with the same columns and never the same key twice,
    so grouping cannot reorder two writes to one row. Updates run one by one.
    """
    group: list[Op] = []
    shape: tuple[Any, ...] | None = None
    keys: set[tuple[Any, ...]] = set()
    for op in ops:
        if isinstance(op, Upsert):
            op_shape = (op.table, tuple(op.key), tuple(op.values), op.first_wins)
            op_key = tuple(op.key.values())
            if op_shape == shape and op_key not in keys:
                group.append(op)
                keys.add(op_key)
                continue
        if isinstance(op, LinkPaths) and shape == ("links", op.table):
            group.append(op)
            continue
        if group:
            yield group
        if isinstance(op, LinkPaths):
            group, shape, keys = [op], ("links", op.table), set()
        elif isinstance(op, Upsert):
            group, shape, keys = [op], (op.table, tuple(op.key), tuple(op.values), op.first_wins), {
                tuple(op.key.values())
            }
        else:
            group, shape, keys = [], None, set()
            yield [op]
    if group:
        yield group


def apply_ops(conn: sa.Connection, ops: Sequence[Op], generation: int) -> None:
    """Write `ops`, in order, as rows of `generation`, inside the caller's transaction."""
    for group in _groups(ops):
        first = group[0]
        table = read_model_table(first.table)
        if isinstance(first, LinkPaths):
            apply_links(conn, [op for op in group if isinstance(op, LinkPaths)], generation)
            continue
        _check_columns(table, [*first.key, *first.values])
        if isinstance(first, Upsert):
            stmt = _upsert_statement(conn, table, list(first.key), list(first.values), first.first_wins)
            upserts = [op for op in group if isinstance(op, Upsert)]
            rows = [{"generation": generation, **op.key, **op.values} for op in upserts]
            conn.execute(stmt, rows)
        elif isinstance(first, Update):
            if not first.values:
                continue
            where = [table.c.generation == generation, *(table.c[k] == v for k, v in first.key.items())]
            conn.execute(table.update().where(*where).values(**first.values))
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
