"""The element paths (issue 10 B): projectors keeping `rm_element_paths`, the closure of the
parent links, in the `documents` projection.

A link `child -> parent` (at creation, `ElementCreated.parent_id`, or later,
`ElementParentAdded`) adds a path from every ancestor of the parent (and the parent) to every
descendant of the child (and the child). The projector stays pure: it returns a `LinkPaths`
operation, and projections/apply.py runs it as one INSERT ... SELECT over the closure itself
(see `apply_links`). Applying it twice changes nothing (ON CONFLICT keeps the shortest depth).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from domain import events as ev
from projections.element_tree_tables import rm_element_paths
from projections.envelope import Envelope
from projections.ops import LinkPaths, Op, Projectors

TABLE = rm_element_paths.name


def on_element_created(e: Envelope[ev.ElementCreated]) -> list[Op]:
    parent_id = e.event.parent_id
    return [] if parent_id is None else [LinkPaths(TABLE, parent_id, e.event.element_id)]


def on_element_parent_added(e: Envelope[ev.ElementParentAdded]) -> list[Op]:
    return [LinkPaths(TABLE, e.event.parent_id, e.event.child_id)]


PROJECTORS: Projectors = {
    ev.ElementCreated: on_element_created,
    ev.ElementParentAdded: on_element_parent_added,
}

TABLES = (TABLE,)

# Every ancestor of :parent (with :parent itself at distance 0) times every descendant of :child
# (with :child itself), minus self-pairs: a link that would close a cycle never makes an element
# its own ancestor here (the domain refuses cycles; this keeps a listing finite regardless).
_LINK = """
INSERT INTO rm_element_paths (generation, ancestor_id, descendant_id, depth)
SELECT CAST(:generation AS INTEGER), up.ancestor_id, down.descendant_id, MIN(up.depth + 1 + down.depth)
FROM (
    SELECT CAST(:parent AS VARCHAR(36)) AS ancestor_id, 0 AS depth
    UNION ALL
    SELECT ancestor_id, depth FROM rm_element_paths WHERE generation = :generation AND descendant_id = :parent
) AS up
CROSS JOIN (
    SELECT CAST(:child AS VARCHAR(36)) AS descendant_id, 0 AS depth
    UNION ALL
    SELECT descendant_id, depth FROM rm_element_paths WHERE generation = :generation AND ancestor_id = :child
) AS down
WHERE up.ancestor_id <> down.descendant_id
GROUP BY up.ancestor_id, down.descendant_id
ON CONFLICT (generation, ancestor_id, descendant_id) DO UPDATE SET depth = {least}
"""


def apply_links(conn: sa.Connection, ops: Sequence[LinkPaths], generation: int) -> None:
    """Run consecutive `LinkPaths` operations, in order (each reads what the previous wrote)."""
    least = (
        "LEAST(rm_element_paths.depth, excluded.depth)"
        if conn.dialect.name == "postgresql"
        else "MIN(rm_element_paths.depth, excluded.depth)"
    )
    statement = sa.text(_LINK.format(least=least))
    params: list[dict[str, Any]] = [
        {"generation": generation, "parent": op.parent_id, "child": op.child_id} for op in ops
    ]
    # One executemany: the driver runs the statements in order in this transaction, so each link
    # sees the paths the ones before it wrote (a child created under a parent of the same batch).
    conn.execute(statement, params)
