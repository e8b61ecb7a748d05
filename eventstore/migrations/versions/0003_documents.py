"""Document read models (corpora, elements, transcriptions, classifications, metadata).

Derived data like 0002, filled by the `documents` projection (a rebuild re-fills them).

Revision ID: 0003
Revises: 0002

Frozen: the tables exactly as they were at this revision, written out with `op.create_table` so
that later changes to the models (projections/tables.py, integrations/tables.py, api/ui/tables.py)
never change what this revision creates; a change ships as a new migration.
tests/integration/test_migrations.py fails when the models and the migrations disagree.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from eventstore.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_corpora",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("corpus_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "corpus_id", name=op.f("pk_rm_corpora")),
    )
    op.create_index("ix_rm_corpora_owner", "rm_corpora", ["generation", "owner_id", "name"], unique=False)
    op.create_table(
        "rm_element_types",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.String(length=36), nullable=False),
        sa.Column("corpus_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=250), nullable=False),
        sa.Column("folder", sa.Boolean(), nullable=False),
        sa.Column("color", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("generation", "type_id", name=op.f("pk_rm_element_types")),
    )
    op.create_index(
        "ix_rm_element_types_corpus", "rm_element_types", ["generation", "corpus_id", "slug"], unique=False
    )
    op.create_table(
        "rm_ml_classes",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.String(length=36), nullable=False),
        sa.Column("corpus_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.PrimaryKeyConstraint("generation", "class_id", name=op.f("pk_rm_ml_classes")),
    )
    op.create_index(
        "ix_rm_ml_classes_corpus", "rm_ml_classes", ["generation", "corpus_id", "name"], unique=False
    )
    op.create_table(
        "rm_elements",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=36), nullable=False),
        sa.Column("corpus_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column(
            "polygon",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("image_id", sa.String(length=36), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("worker_run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "element_id", name=op.f("pk_rm_elements")),
    )
    op.create_index(
        "ix_rm_elements_corpus", "rm_elements", ["generation", "corpus_id", "created_position"], unique=False
    )
    op.create_index(
        "ix_rm_elements_parent", "rm_elements", ["generation", "parent_id", "created_position"], unique=False
    )
    op.create_index(
        "ix_rm_elements_run", "rm_elements", ["generation", "worker_run_id", "created_position"], unique=False
    )
    op.create_index(
        "ix_rm_elements_user", "rm_elements", ["generation", "user_id", "created_position"], unique=False
    )
    op.create_table(
        "rm_transcriptions",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("transcription_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("orientation", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("worker_run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "transcription_id", name=op.f("pk_rm_transcriptions")),
    )
    op.create_index(
        "ix_rm_transcriptions_element",
        "rm_transcriptions",
        ["generation", "element_id", "created_position"],
        unique=False,
    )
    op.create_index(
        "ix_rm_transcriptions_run",
        "rm_transcriptions",
        ["generation", "worker_run_id", "created_position"],
        unique=False,
    )
    op.create_index(
        "ix_rm_transcriptions_user",
        "rm_transcriptions",
        ["generation", "user_id", "created_position"],
        unique=False,
    )
    op.create_table(
        "rm_classifications",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("classification_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=36), nullable=False),
        sa.Column("ml_class_id", sa.String(length=36), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("high_confidence", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("worker_run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "classification_id", name=op.f("pk_rm_classifications")),
    )
    op.create_index(
        "ix_rm_classifications_element",
        "rm_classifications",
        ["generation", "element_id", "created_position"],
        unique=False,
    )
    op.create_index(
        "ix_rm_classifications_run",
        "rm_classifications",
        ["generation", "worker_run_id", "created_position"],
        unique=False,
    )
    op.create_index(
        "ix_rm_classifications_user",
        "rm_classifications",
        ["generation", "user_id", "created_position"],
        unique=False,
    )
    op.create_table(
        "rm_metadata",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("metadata_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("entity_id", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("worker_run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "metadata_id", name=op.f("pk_rm_metadata")),
    )
    op.create_index(
        "ix_rm_metadata_element",
        "rm_metadata",
        ["generation", "element_id", "created_position"],
        unique=False,
    )
    op.create_index(
        "ix_rm_metadata_run", "rm_metadata", ["generation", "worker_run_id", "created_position"], unique=False
    )
    op.create_index(
        "ix_rm_metadata_user", "rm_metadata", ["generation", "user_id", "created_position"], unique=False
    )


def downgrade() -> None:
    op.drop_table("rm_metadata")
    op.drop_table("rm_classifications")
    op.drop_table("rm_transcriptions")
    op.drop_table("rm_elements")
    op.drop_table("rm_ml_classes")
    op.drop_table("rm_element_types")
    op.drop_table("rm_corpora")
