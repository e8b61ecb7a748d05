"""The element paths read model (issue 10 B): the closure of the parent links, as
projections/paths.py writes it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from eventstore.migrate import alembic_config, upgrade
from projections.apply import apply_ops
from projections.element_tree_tables import rm_element_paths
from projections.ops import LinkPaths
from projections.tables import rm_elements

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


def test_migration_0008_fills_the_paths_of_existing_trees(engine: Engine) -> None:
    """Elements projected before 0008 had one parent each: upgrading fills their closure."""
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
    now = datetime.now(UTC)
    rows = [("root", None), ("a", "root"), ("b", "a"), ("c", "b"), ("other", None)]
    with engine.begin() as conn:
        conn.execute(rm_elements.insert(), [
            {"generation": 1, "element_id": element, "corpus_id": "k", "type": "t", "name": element,
             "parent_id": parent, "user_id": "u", "created_at": now, "created_position": n}
            for n, (element, parent) in enumerate(rows, start=1)
        ])
    upgrade(engine)
    assert _closure(engine) == {
        ("root", "a"): 1, ("root", "b"): 2, ("root", "c"): 3, ("a", "b"): 1, ("a", "c"): 2, ("b", "c"): 1,
    }
