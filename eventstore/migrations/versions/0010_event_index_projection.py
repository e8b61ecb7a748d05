"""The subject and visibility index becomes an ordinary projection (`event_index`).

Revision ID: 0010
Revises: 0009

Its three tables gain the `generation` column every read model has (a rebuild fills N+1 beside
the live one), and its position moves from `integration_checkpoints` (dropped: it held nothing
else) to `projection_checkpoints`. The index is derived data: the tables are recreated empty
and the projection rebuilds them from the log (the relay announces it to the workers; the first
reader runs it up to the head itself). Frozen like the others: written out with
`op.create_table`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    for table in ("scope_readers", "event_scopes", "event_subjects", "integration_checkpoints"):
        op.drop_table(table)
    op.create_table(
        "event_subjects",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("global_position", _POSITION, nullable=False),
        sa.PrimaryKeyConstraint("generation", "subject_id", "global_position", name="pk_event_subjects"),
    )
    op.create_table(
        "event_scopes",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("global_position", _POSITION, nullable=False),
        sa.Column("scope_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("generation", "global_position", name="pk_event_scopes"),
    )
    op.create_index(
        "ix_event_scopes_scope_position", "event_scopes", ["generation", "scope_id", "global_position"],
        unique=False,
    )
    op.create_table(
        "scope_readers",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("scope_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("since_position", _POSITION, nullable=False),
        sa.PrimaryKeyConstraint("generation", "scope_id", "user_id", name="pk_scope_readers"),
    )
    op.create_index("ix_scope_readers_user", "scope_readers", ["generation", "user_id"], unique=False)


def downgrade() -> None:
    # Back to 0004's tables, empty: that version's readers index the log again from position 0.
    for table in ("scope_readers", "event_scopes", "event_subjects"):
        op.drop_table(table)
    op.execute(sa.text("DELETE FROM projection_checkpoints WHERE name = 'event_index'"))
    op.execute(sa.text("DELETE FROM projection_state WHERE name = 'event_index'"))
    op.execute(sa.text("DELETE FROM projection_failures WHERE name = 'event_index'"))
    op.execute(sa.text("DELETE FROM dead_letters WHERE name = 'event_index'"))
    op.create_table(
        "integration_checkpoints",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", _POSITION, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_integration_checkpoints")),
    )
    op.create_table(
        "event_subjects",
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("global_position", _POSITION, nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "global_position", name="pk_event_subjects"),
    )
    op.create_table(
        "event_scopes",
        sa.Column("global_position", _POSITION, autoincrement=False, nullable=False),
        sa.Column("scope_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("global_position", name=op.f("pk_event_scopes")),
    )
    op.create_index(
        "ix_event_scopes_scope_position", "event_scopes", ["scope_id", "global_position"], unique=False
    )
    op.create_table(
        "scope_readers",
        sa.Column("scope_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("since_position", _POSITION, nullable=False),
        sa.PrimaryKeyConstraint("scope_id", "user_id", name="pk_scope_readers"),
    )
    op.create_index("ix_scope_readers_user", "scope_readers", ["user_id"], unique=False)
