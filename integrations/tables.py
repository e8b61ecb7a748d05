"""Integration tables (migration 0004): the audit/visibility index and webhooks.

Two kinds of data live here:

* **Derived** (rebuildable from the events, a read model like the others): `event_subjects`,
  `event_scopes`, `scope_readers`, written by the `event_index` projection
  (integrations/index.py), never in the append transaction (the append path belongs to the
  event store and stays lean); readers run it up to the head they read before they query
  it, so it is never stale for them.
* **Operational state of webhooks** (subscriptions, their change log, deliveries, attempts,
  dead letters). Subscriptions are plain tables rather than an event-sourced aggregate: they
  are integration plumbing with no domain invariant, they change often (checkpoints move
  on every delivery), and they must be editable by operators (pause/resume/replay). They
  stay durable and auditable through `webhook_subscription_changes`, an append-only log
  written in the same transaction as every change (who, when, what, which request).
"""

from __future__ import annotations

import sqlalchemy as sa

from eventstore.schema import NAMING_CONVENTION, BigInt, Json, UTCDateTime
from eventstore.schema import metadata as read_models

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# --- the subject and visibility index: a projection (integrations/index.py) ------------------
#
# Read-model tables like the others: on the read models' MetaData (projections/apply.py finds
# them there), every row of one `generation` (a rebuild fills N+1 beside the live one), the
# position in `projection_checkpoints` under the name "event_index".

# Which object ids an event is about (its stream's id, every `*_id` in its payload, the run
# that signed it): `?stream=<any id>` in the audit API is one index range scan.
event_subjects = sa.Table(
    "event_subjects",
    read_models,
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("subject_id", sa.String(200), nullable=False),
    sa.Column("global_position", BigInt, nullable=False),
    sa.PrimaryKeyConstraint("generation", "subject_id", "global_position", name="pk_event_subjects"),
)

# The one object whose readers may see an event (a worker for its versions, the owner for
# runs, "public" for worker types).
event_scopes = sa.Table(
    "event_scopes",
    read_models,
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("global_position", BigInt, nullable=False),
    sa.Column("scope_id", sa.String(200), nullable=False),
    sa.PrimaryKeyConstraint("generation", "global_position", name="pk_event_scopes"),
    sa.Index("ix_event_scopes_scope_position", "generation", "scope_id", "global_position"),
)

# Who may read a scope, from which position on: visibility is "as of the event", so a
# page of the feed never changes once written (a later grant does not rewrite history).
scope_readers = sa.Table(
    "scope_readers",
    read_models,
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("scope_id", sa.String(200), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("since_position", BigInt, nullable=False),
    sa.PrimaryKeyConstraint("generation", "scope_id", "user_id", name="pk_scope_readers"),
    sa.Index("ix_scope_readers_user", "generation", "user_id"),
)

# --- webhooks ------------------------------------------------------------------------------

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", Json, nullable=False),
    # The current secret, and the previous one during a rotation (both sign deliveries).
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("previous_secret", sa.String(200), nullable=True),
    sa.Column("previous_secret_expires_at", UTCDateTime, nullable=True),
    # active | paused | disabled
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("state_reason", sa.String(500), nullable=True),
    # Every event <= checkpoint has been delivered (or parked): delivery resumes after it.
    sa.Column("checkpoint", BigInt, nullable=False),
    # The owner's admin flag when they subscribed: what the subscription may see.
    sa.Column("owner_is_admin", sa.Boolean, nullable=False),
    # One delivery task at a time per subscription (order): a lease, taken with a
    # conditional UPDATE and renewed per event, so a killed worker's lease simply expires.
    sa.Column("lease_owner", sa.String(36), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

webhook_subscription_changes = sa.Table(
    "webhook_subscription_changes",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", sa.String(36), nullable=False, index=True),
    sa.Column("change", sa.String(40), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("correlation_id", sa.String(64), nullable=True),
    sa.Column("details", Json, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

# One row per (subscription, event): the inbox that makes a re-run of a delivery task a
# no-op once the event is delivered, and the place attempts hang from.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("subscription_id", sa.String(36), nullable=False),
    sa.Column("global_position", BigInt, nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    # pending | delivered | parked | test
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
    sa.Index("ix_webhook_deliveries_subscription_position", "subscription_id", "global_position"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(36), nullable=False, index=True),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)

webhook_dead_letters = sa.Table(
    "webhook_dead_letters",
    metadata,
    sa.Column("delivery_id", sa.String(36), primary_key=True),
    sa.Column("subscription_id", sa.String(36), nullable=False, index=True),
    sa.Column("global_position", BigInt, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("parked_at", UTCDateTime, nullable=False),
    sa.Column("replayed_at", UTCDateTime, nullable=True),
)

INDEX_TABLES = [event_subjects, event_scopes, scope_readers]
WEBHOOK_TABLES = [
    webhook_subscriptions,
    webhook_subscription_changes,
    webhook_deliveries,
    webhook_attempts,
    webhook_dead_letters,
]
