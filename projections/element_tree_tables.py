"""Read-model tables of issue 10 B, part of the `documents` projection: the element tree and
the transcription entities.

`rm_element_paths` is the transitive closure of the parent links: one row per (ancestor,
descendant) pair with the shortest distance between them (1 = a direct parent). With it, a
recursive listing (all descendants, all ancestors, top-level elements) is one indexed query
instead of a recursive walk, however deep the tree and however many parents an element has.
"""

from __future__ import annotations

import sqlalchemy as sa

from eventstore.schema import metadata
from projections.tables import _signed_columns

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

# --- transcription entities (issue 10 B), also in the `documents` projection ------------------

rm_entity_types = sa.Table(
    "rm_entity_types",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("type_id", sa.String(36), primary_key=True),
    sa.Column("corpus_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("color", sa.String(6), nullable=False),
    sa.Index("ix_rm_entity_types_corpus", "generation", "corpus_id", "name"),
)

rm_transcription_entities = sa.Table(
    "rm_transcription_entities",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("entity_id", sa.String(36), primary_key=True),
    sa.Column("transcription_id", sa.String(36), nullable=False),
    sa.Column("element_id", sa.String(36), nullable=False),
    sa.Column("type_id", sa.String(36), nullable=False),
    sa.Column("offset", sa.Integer, nullable=False),
    sa.Column("length", sa.Integer, nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    *_signed_columns("rm_transcription_entities"),
    sa.Index("ix_rm_transcription_entities_transcription", "generation", "transcription_id", "offset"),
)
