"""The event store: events, position counter, stream aliases, command log; append-only.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from eventstore.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")

PG_APPEND_ONLY = """
CREATE FUNCTION worker_runs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("global_position", BigInt, primary_key=True, autoincrement=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.SmallInteger, nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("actor_type", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("causation_id", sa.String(64), nullable=False),
        sa.Column("command_id", sa.String(64), nullable=True),
        sa.Column("worker_run_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("global_position", name="pk_events"),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
        sa.CheckConstraint("stream_version >= 1", name="ck_events_stream_version_positive"),
    )
    op.create_index("ix_events_actor_position", "events", ["actor_id", "global_position"])
    op.create_index("ix_events_type_position", "events", ["event_type", "global_position"])
    op.create_index("ix_events_correlation", "events", ["correlation_id"])
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_index("ix_events_command", "events", ["command_id"])
    op.create_index("ix_events_worker_run_position", "events", ["worker_run_id", "global_position"])

    op.create_table(
        "event_position",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("last", BigInt, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_position"),
        sa.CheckConstraint("id = 1", name="ck_event_position_single_row"),
    )
    op.execute("INSERT INTO event_position (id, last) VALUES (1, 0)")

    op.create_table(
        "stream_aliases",
        sa.Column("alias", sa.String(300), nullable=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("alias", name="pk_stream_aliases"),
    )
    op.create_table(
        "command_log",
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("command_type", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", Json, nullable=True),
        sa.Column("position", BigInt, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("command_id", name="pk_command_log"),
    )

    # Append-only, enforced by the database itself, not by application discipline.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
        for table in ("events", "stream_aliases"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION worker_runs_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION worker_runs_append_only()"
            )
    else:
        for table in ("events", "stream_aliases"):
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
                )


def downgrade() -> None:
    raise RuntimeError("The event store is append-only: its migration cannot be downgraded.")
