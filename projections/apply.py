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
    """The operations as groups that each run as one executemany, every table's writes kept in
    their original order.

    A group holds upserts of one table with the same columns and never the same key twice,
    so grouping cannot reorder two writes to one row. Groups of different tables stay open side
    by side: read-model tables are independent (no upsert reads another table), so a projector
    that writes several tables per event (the subject index: subjects, scope, readers) costs one
    statement per table per batch, not per event. An update, or a run of `LinkPaths` (which
    read the closure they extend), closes every open group first and runs on its own.
    """
    open_groups: dict[str, tuple[tuple[Any, ...], list[Op], set[tuple[Any, ...]]]] = {}
    links: list[Op] = []
    for op in ops:
        if isinstance(op, Upsert):
            if links:
                yield links
                links = []
            shape = (tuple(op.key), tuple(op.values), op.first_wins)
            key = tuple(op.key.values())
            group = open_groups.get(op.table)
            if group is not None and group[0] == shape and key not in group[2]:
                group[1].append(op)
                group[2].add(key)
                continue
            if group is not None:
                yield open_groups.pop(op.table)[1]
            open_groups[op.table] = (shape, [op], {key})
            continue
        yield from (group[1] for group in open_groups.values())
        open_groups.clear()
        if isinstance(op, LinkPaths) and (not links or links[0].table == op.table):
            links.append(op)
            continue
        if links:
            yield links
        links = [op] if isinstance(op, LinkPaths) else []
        if not isinstance(op, LinkPaths):
            yield [op]
    yield from (group[1] for group in open_groups.values())
    if links:
        yield links


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
