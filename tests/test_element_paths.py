"""The element paths read model (issue 10 B): the closure of the parent links, as
projections/paths.py writes it, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from projections.apply import apply_ops
from projections.element_tree_tables import rm_element_paths
from projections.ops import LinkPaths

TABLE = rm_element_paths.name


def _closure(engine: Engine, generation: int = 1) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        c = rm_element_paths.c
        rows = conn.execute(
            sa.select(c.ancestor_id, c.descendant_id, c.depth).where(c.generation == generation)
        )
        return {(a, d): depth for a, d, depth in rows}


def _link(engine: Engine, *links: tuple[str, str], generation: int = 1) -> None:
    with engine.begin() as conn:
        apply_ops(conn, [LinkPaths(TABLE, parent, child) for parent, child in links], generation)


def test_links_in_any_order_make_the_closure_with_shortest_depths(engine: Engine) -> None:
    # A chain root > a > b, then a subtree c > d linked under b, then a shortcut root > d.
    _link(engine, ("root", "a"), ("a", "b"), ("c", "d"))
    _link(engine, ("b", "c"))
    _link(engine, ("root", "d"))
    assert _closure(engine) == {
        ("root", "a"): 1, ("root", "b"): 2, ("root", "c"): 3, ("root", "d"): 1,
        ("a", "b"): 1, ("a", "c"): 2, ("a", "d"): 3,
        ("b", "c"): 1, ("b", "d"): 2,
        ("c", "d"): 1,
    }
    # Redelivered events change nothing; other generations are untouched.
    before = _closure(engine)
    _link(engine, ("root", "a"), ("b", "c"), ("root", "d"))
    assert _closure(engine) == before
    assert _closure(engine, generation=2) == {}


def test_a_cycle_never_makes_an_element_its_own_ancestor(engine: Engine) -> None:
    # The domain refuses cycles; should one slip through a race, listings stay finite.
    _link(engine, ("a", "b"), ("b", "a"))
    assert _closure(engine) == {("a", "b"): 1, ("b", "a"): 1}
