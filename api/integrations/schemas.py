"""marshmallow schemas of the integration endpoints: event feed, live stream, audit, webhooks."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from api.base_schemas import MAX_INT64
from integrations.translator import PUBLIC_TYPES

MAX_PAGE = 1000


class TypeList(fields.String):
    """A comma-separated list of public event types (`?types=worker.created,worker_run.created`)."""

    # A string on the wire, a list once loaded.
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any,
    ) -> list[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = sorted(set(names) - set(PUBLIC_TYPES))
        if unknown:
            raise ValidationError(
                f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(PUBLIC_TYPES)}."
            )
        return names


class FeedQuery(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_INT64),
        metadata={"description": "Cursor: answer events with a position above it."},
    )
    types = TypeList(
        load_default=None, metadata={"description": "Comma-separated public event types (default: all)."}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class StreamQuery(Schema):
    after = fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=MAX_INT64),
        metadata={
            "description": "Start after this position (`Last-Event-ID` takes precedence; default: now)."
        },
    )
    types = TypeList(load_default=None)


class ActorSchema(Schema):
    type = fields.String()
    id = fields.String()


class IntegrationEventSchema(Schema):
    id = fields.String(metadata={"description": "Stable event id, a UUID (= `webhook-id`)."})
    type = fields.String(metadata={"description": "Public event type, e.g. `worker_run.created`."})
    schema_version = fields.Integer()
    position = fields.Integer(metadata={"description": "Global position in the event log."})
    occurred_at = fields.String()
    recorded_at = fields.String()
    actor = fields.Nested(ActorSchema)
    correlation_id = fields.String()
    data = fields.Dict(
        metadata={"description": "The resource as of this event (docs/integration-events.md)."}
    )


class FeedPageSchema(Schema):
    events = fields.List(fields.Nested(IntegrationEventSchema))
    next = fields.Integer(metadata={"description": "Pass as `after` for the next page."})
    next_url = fields.String()
    complete = fields.Boolean(metadata={"description": "A full page: immutable and cacheable."})


feed_query = FeedQuery()
stream_query = StreamQuery()
feed_page_schema = FeedPageSchema()


# --- audit trail ---------------------------------------------------------------------------


class AuditQuery(Schema):
    actor = fields.String(validate=validate.Length(max=64), metadata={"description": "User id of the actor."})
    worker_run = fields.UUID(metadata={"description": "Events signed by or about this worker run."})
    stream = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Any object's id (worker, version, run, user, element...) or a stream id."},
    )
    type = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "Stored event type, e.g. `UserWorkerRunCreated`."},
    )
    since = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "ISO 8601, inclusive."})
    until = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "ISO 8601, exclusive."})
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_INT64),
        metadata={"description": "Keyset cursor: events with a position above it."},
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page size (JSON; CSV exports every match)."},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class AuditEntrySchema(Schema):
    position = fields.Integer()
    event_id = fields.String()
    stream_id = fields.String()
    stream_version = fields.Integer()
    type = fields.String()
    schema_version = fields.Integer()
    occurred_at = fields.String()
    recorded_at = fields.String()
    actor = fields.Nested(ActorSchema)
    correlation_id = fields.String()
    causation_id = fields.String()
    command_id = fields.String(allow_none=True)
    worker_run_id = fields.String(allow_none=True)
    data = fields.Dict()


class AuditPageSchema(Schema):
    results = fields.List(fields.Nested(AuditEntrySchema))
    next = fields.Integer(allow_none=True, metadata={"description": "Pass as `after`; null at the end."})
    next_url = fields.String(allow_none=True)


class RunProvenanceSchema(Schema):
    run_id = fields.String()
    created_by = fields.Nested(ActorSchema)
    created_at = fields.String()
    correlation_id = fields.String(metadata={"description": "The request that created the run."})
    command_id = fields.String(allow_none=True)
    position = fields.Integer()
    worker_id = fields.String()
    worker_version_id = fields.String()
    configuration_id = fields.String(allow_none=True)
    model_version_id = fields.String(allow_none=True)
    creation = fields.Nested(AuditEntrySchema)
    history = fields.List(
        fields.Nested(AuditEntrySchema),
        metadata={
            "description": "Every event that touched the run's worker, version, configuration or model "
            "version before the run was created."
        },
    )


audit_query = AuditQuery()
audit_page_schema = AuditPageSchema()
run_provenance_schema = RunProvenanceSchema()


# --- webhooks ------------------------------------------------------------------------------

SUBSCRIBABLE = [*PUBLIC_TYPES]


class CreateWebhookBody(Schema):
    url = fields.Url(
        required=True, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000)
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)),
        required=True,
        validate=validate.Length(min=1, max=len(SUBSCRIBABLE)),
    )
    secret = fields.String(
        load_default=None,
        validate=validate.Length(min=10, max=200),
        metadata={"description": "`whsec_` + base64 key; generated (and shown once) when absent."},
    )


class UpdateWebhookBody(Schema):
    url = fields.Url(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000))
    events = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)),
        validate=validate.Length(min=1, max=len(SUBSCRIBABLE)),
    )
    state = fields.String(validate=validate.OneOf(["active", "paused"]))


class RotateSecretBody(Schema):
    secret = fields.String(load_default=None, validate=validate.Length(min=10, max=200))


class ReplayBody(Schema):
    from_position = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_INT64))


class WebhookSchema(Schema):
    id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    state = fields.String(metadata={"description": "active | paused | disabled"})
    state_reason = fields.String(allow_none=True)
    checkpoint = fields.Integer(metadata={"description": "Every matching event up to here was delivered."})
    owner_id = fields.String()
    rotating = fields.Boolean(metadata={"description": "A previous secret still signs deliveries."})
    created_at = fields.String()
    updated_at = fields.String()
    secret = fields.String(metadata={"description": "Only when just generated or rotated."})


class AttemptSchema(Schema):
    attempted_at = fields.String()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliverySchema(Schema):
    id = fields.String()
    event_id = fields.String(metadata={"description": "= the `webhook-id` header."})
    event_type = fields.String()
    position = fields.Integer()
    status = fields.String(metadata={"description": "pending | delivered | parked | test"})
    attempt_count = fields.Integer()
    next_attempt_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    parked_reason = fields.String(allow_none=True)
    delivered_at = fields.String(allow_none=True)
    attempts = fields.List(fields.Nested(AttemptSchema))


class DeliveriesQuery(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_INT64),
        metadata={"description": "Deliveries of events from this position on."},
    )
    status = fields.String(
        load_default=None, validate=validate.OneOf(["pending", "delivered", "parked", "test"])
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class DeliveriesSchema(Schema):
    results = fields.List(fields.Nested(DeliverySchema))


class TestDeliverySchema(Schema):
    delivery_id = fields.String()
    event_id = fields.String()
    ok = fields.Boolean()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)


create_webhook_body = CreateWebhookBody()
update_webhook_body = UpdateWebhookBody()
rotate_secret_body = RotateSecretBody()
replay_body = ReplayBody()
webhook_schema = WebhookSchema()
deliveries_query = DeliveriesQuery()
deliveries_schema = DeliveriesSchema()
test_delivery_schema = TestDeliverySchema()


class SubscriptionChangeSchema(Schema):
    change = fields.String(
        metadata={"description": "created | updated | secret_rotated | resumed | replayed"}
    )
    actor_id = fields.String()
    correlation_id = fields.String(allow_none=True, metadata={"description": "The request that made it."})
    details = fields.Dict()
    recorded_at = fields.String()


class SubscriptionChangesSchema(Schema):
    results = fields.List(fields.Nested(SubscriptionChangeSchema))


subscription_changes_schema = SubscriptionChangesSchema()
