"""Event-store tables (SQLAlchemy Core). Migrations in eventstore/migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments INTEGER; PostgreSQL needs 64 bits for positions.
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the event store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


events = sa.Table(
    "events",
    metadata,
    # Assigned from the one-row `event_position` counter, taken last in the append
    # transaction: positions are gap-free and in commit order (design.md).
    sa.Column("global_position", BigInt, primary_key=True, autoincrement=False),
    sa.Column("stream_id", sa.String(200), nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
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
    # Optimistic concurrency: two appends at the same expected version cannot both win.
    sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    sa.CheckConstraint("stream_version >= 1", name="stream_version_positive"),
    sa.Index("ix_events_actor_position", "actor_id", "global_position"),
    sa.Index("ix_events_type_position", "event_type", "global_position"),
    sa.Index("ix_events_correlation", "correlation_id"),
    sa.Index("ix_events_recorded_at", "recorded_at"),
    sa.Index("ix_events_command", "command_id"),
    sa.Index("ix_events_worker_run_position", "worker_run_id", "global_position"),
)

event_position = sa.Table(
    "event_position",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("last", BigInt, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

# Natural keys and entity ids -> the stream that owns them ("worker-slug:ocr" -> "worker-<uuid>",
# "worker-version:<uuid>" -> "worker-<uuid>"). Written in the append transaction, so a claim
# is a durable unique reservation (Marten's natural-key table) and never orphaned.
stream_aliases = sa.Table(
    "stream_aliases",
    metadata,
    sa.Column("alias", sa.String(300), primary_key=True),
    sa.Column("stream_id", sa.String(200), nullable=False),
)

command_log = sa.Table(
    "command_log",
    metadata,
    sa.Column("command_id", sa.String(64), primary_key=True),
    sa.Column("command_type", sa.String(100), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("response", Json, nullable=True),
    sa.Column("position", BigInt, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
