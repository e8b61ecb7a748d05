"""Element tree, transcription entities and sign-in (issue 10 B): their read models.

Revision ID: 0008
Revises: 0007

`rm_element_paths` (projections/element_tree_tables.py) is a read model of the `documents`
projection: the closure of the parent links. Elements projected before this revision had
one parent each (`rm_elements.parent_id`): their paths are filled here from those links, in
every generation, so existing trees list recursively without a rebuild.

Frozen like the others: written out with `op.create_table`, importing no model.
"""

import sqlalchemy as sa
from alembic import op

from eventstore.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_element_paths",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("ancestor_id", sa.String(length=36), nullable=False),
        sa.Column("descendant_id", sa.String(length=36), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "generation", "ancestor_id", "descendant_id", name=op.f("pk_rm_element_paths")
        ),
    )
    op.create_index(
        "ix_rm_element_paths_ancestor", "rm_element_paths", ["generation", "ancestor_id", "depth"],
        unique=False,
    )
    op.create_index(
        "ix_rm_element_paths_descendant", "rm_element_paths", ["generation", "descendant_id", "depth"],
        unique=False,
    )
    op.create_table(
        "rm_entity_types",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.String(length=36), nullable=False),
        sa.Column("corpus_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("color", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("generation", "type_id", name=op.f("pk_rm_entity_types")),
    )
    op.create_index(
        "ix_rm_entity_types_corpus", "rm_entity_types", ["generation", "corpus_id", "name"], unique=False
    )
    op.create_table(
        "rm_transcription_entities",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("transcription_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=36), nullable=False),
        sa.Column("type_id", sa.String(length=36), nullable=False),
        sa.Column("offset", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("worker_run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "entity_id", name=op.f("pk_rm_transcription_entities")),
    )
    for name, columns in (
        ("ix_rm_transcription_entities_transcription", ["generation", "transcription_id", "offset"]),
        ("ix_rm_transcription_entities_run", ["generation", "worker_run_id", "created_position"]),
        ("ix_rm_transcription_entities_user", ["generation", "user_id", "created_position"]),
    ):
        op.create_index(name, "rm_transcription_entities", columns, unique=False)
    # password sign-in (api/sign_in_tables.py): operational state, not read models
    op.create_table(
        "user_passwords",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_passwords")),
    )
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    op.execute(
        """
        INSERT INTO rm_element_paths (generation, ancestor_id, descendant_id, depth)
        WITH RECURSIVE up (generation, ancestor_id, descendant_id, depth) AS (
            SELECT generation, parent_id, element_id, 1 FROM rm_elements WHERE parent_id IS NOT NULL
            UNION ALL
            SELECT up.generation, e.parent_id, up.descendant_id, up.depth + 1
            FROM up JOIN rm_elements e ON e.generation = up.generation AND e.element_id = up.ancestor_id
            WHERE e.parent_id IS NOT NULL AND up.depth < 1000
        )
        SELECT generation, ancestor_id, descendant_id, MIN(depth) FROM up
        GROUP BY generation, ancestor_id, descendant_id
        """
    )


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("user_passwords")
    op.drop_table("rm_transcription_entities")
    op.drop_table("rm_entity_types")
    op.drop_index("ix_rm_element_paths_descendant", table_name="rm_element_paths")
    op.drop_index("ix_rm_element_paths_ancestor", table_name="rm_element_paths")
    op.drop_table("rm_element_paths")
