"""Read models and projection bookkeeping (rebuildable: never touches the events).

Revision ID: 0002
Revises: 0001

Frozen: the tables exactly as they were at this revision, written out with `op.create_table` so
that later changes to the models (projections/tables.py, integrations/tables.py, api/ui/tables.py)
never change what this revision creates; a change ships as a new migration.
tests/integration/test_migrations.py fails when the models and the migrations disagree.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from eventstore.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_state",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("live_generation", sa.Integer(), nullable=False),
        sa.Column("building_generation", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projection_state")),
    )
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "generation", name=op.f("pk_projection_checkpoints")),
    )
    op.create_table(
        "dead_letters",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("global_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("held_behind", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("parked_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "global_position", name=op.f("pk_dead_letters")),
    )
    op.create_index("ix_dead_letters_stream", "dead_letters", ["name", "stream_id"], unique=False)
    op.create_table(
        "projection_failures",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("global_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "global_position", name=op.f("pk_projection_failures")),
    )
    op.create_table(
        "rm_users",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation", "user_id", name=op.f("pk_rm_users")),
    )
    op.create_table(
        "rm_worker_types",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("type_id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "slug", name=op.f("pk_rm_worker_types")),
    )
    op.create_table(
        "rm_workers",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("repository_url", sa.String(length=500), nullable=True),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "worker_id", name=op.f("pk_rm_workers")),
    )
    op.create_index("ix_rm_workers_name", "rm_workers", ["generation", "name", "worker_id"], unique=False)
    op.create_index("ix_rm_workers_owner", "rm_workers", ["generation", "owner_id"], unique=False)
    op.create_index("ix_rm_workers_type", "rm_workers", ["generation", "type", "name"], unique=False)
    op.create_table(
        "rm_worker_access",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("generation", "worker_id", "user_id", name=op.f("pk_rm_worker_access")),
    )
    op.create_index("ix_rm_worker_access_user", "rm_worker_access", ["generation", "user_id"], unique=False)
    op.create_table(
        "rm_worker_versions",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("worker_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "configuration",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("docker_image_iid", sa.String(length=500), nullable=True),
        sa.Column("revision_url", sa.String(length=500), nullable=True),
        sa.Column("gpu_usage", sa.String(length=20), nullable=False),
        sa.Column("model_usage", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=True),
        sa.Column("branch", sa.String(length=200), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "version_id", name=op.f("pk_rm_worker_versions")),
    )
    op.create_index(
        "ix_rm_worker_versions_worker",
        "rm_worker_versions",
        ["generation", "worker_id", "number"],
        unique=False,
    )
    op.create_table(
        "rm_worker_configurations",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("configuration_id", sa.String(length=36), nullable=False),
        sa.Column("worker_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column(
            "configuration",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "secret_keys",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation", "configuration_id", name=op.f("pk_rm_worker_configurations")),
    )
    op.create_index(
        "ix_rm_worker_configurations_worker",
        "rm_worker_configurations",
        ["generation", "worker_id", "name"],
        unique=False,
    )
    op.create_table(
        "rm_models",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation", "model_id", name=op.f("pk_rm_models")),
    )
    op.create_index("ix_rm_models_owner", "rm_models", ["generation", "owner_id", "name"], unique=False)
    op.create_table(
        "rm_model_versions",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "configuration",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("tag", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation", "model_version_id", name=op.f("pk_rm_model_versions")),
    )
    op.create_index(
        "ix_rm_model_versions_model", "rm_model_versions", ["generation", "model_id", "number"], unique=False
    )
    op.create_table(
        "rm_user_runs",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("process_id", sa.String(length=36), nullable=False),
        sa.Column("worker_id", sa.String(length=36), nullable=False),
        sa.Column("worker_version_id", sa.String(length=36), nullable=False),
        sa.Column("configuration_id", sa.String(length=36), nullable=True),
        sa.Column("model_version_id", sa.String(length=36), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "run_id", name=op.f("pk_rm_user_runs")),
    )
    op.create_index(
        "ix_rm_user_runs_user", "rm_user_runs", ["generation", "user_id", "created_position"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        # Case-insensitive substring search on worker names ("name contains") served by a
        # trigram index; pg_trgm lives in `public` so every schema can use its operator class.
        with op.get_bind().begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        op.execute("CREATE INDEX ix_rm_workers_name_trgm ON rm_workers USING gin (name public.gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_rm_workers_name_trgm")
    op.drop_table("rm_user_runs")
    op.drop_table("rm_model_versions")
    op.drop_table("rm_models")
    op.drop_table("rm_worker_configurations")
    op.drop_table("rm_worker_versions")
    op.drop_table("rm_worker_access")
    op.drop_table("rm_workers")
    op.drop_table("rm_worker_types")
    op.drop_table("rm_users")
    op.drop_table("projection_failures")
    op.drop_table("dead_letters")
    op.drop_table("projection_checkpoints")
    op.drop_table("projection_state")
