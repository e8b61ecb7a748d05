"""Read-model table of the element tree (issue 10 B), part of the `documents` projection.

`rm_element_paths` is the transitive closure of the parent links: one row per (ancestor,
descendant) pair with the shortest distance between them (1 = a direct parent). With it, a
recursive listing (all descendants, all ancestors, top-level elements) is one indexed query
instead of a recursive walk, however deep the tree and however many parents an element has.
"""

from __future__ import annotations

import sqlalchemy as sa

from eventstore.schema import metadata

rm_element_paths = sa.Table(
    "rm_element_paths",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("ancestor_id", sa.String(36), primary_key=True),
    sa.Column("descendant_id", sa.String(36), primary_key=True),
    #: the shortest path length from the ancestor down to the descendant (1: direct parent)
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Index("ix_rm_element_paths_descendant", "generation", "descendant_id", "depth"),
    sa.Index("ix_rm_element_paths_ancestor", "generation", "ancestor_id", "depth"),
)
