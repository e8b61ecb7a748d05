"""The integrations' routes (issue 7): event feed, live stream, audit trail, webhooks."""

from __future__ import annotations

from api.integrations import resources as ir
from api.integrations import schemas as xs
from api.route_table import Operation, Route, list_op

INTEGRATION_ROUTES: tuple[Route, ...] = (
    # --- integrations (issue 7): event feed, live stream, audit trail, webhooks
    Route("/api/v1/events/", ir.EventFeedResource, (
        Operation("GET", "RetrieveEventFeed", "Public integration events after a cursor",
                  query=xs.feed_query, response=xs.feed_page_schema, tag="integrations",
                  description="Ordered events visible to you with `position > after`, and the next cursor. "
                              "A full page never changes (cacheable for a year, with an ETag); the head "
                              "page is `no-store`. Schema: docs/integration-events.md."),
    )),
    Route("/api/v1/events/stream", ir.EventStreamResource, (
        Operation("GET", "RetrieveEventStream", "Live integration events (server-sent events)",
                  query=xs.stream_query, tag="integrations", content_type="text/event-stream",
                  errors=(429, 503),
                  description="The feed, live: `id:` is the global position; reconnect with "
                              "`Last-Event-ID` to resume after it. Comment heartbeats keep it open. "
                              "Open streams are capped per user (429) and per API process (503), "
                              "both with `Retry-After` and code `too_many_streams`."),
    )),
    Route("/api/v1/audit/", ir.AuditResource, (
        Operation("GET", "RetrieveAuditTrail", "Audit trail: stored events by actor, run, object, type, time",
                  query=xs.audit_query, response=xs.audit_page_schema, tag="integrations",
                  alternate_content_types=("text/csv",),
                  description="Keyset-paginated by position (`after`, `next`). `format=csv` streams every "
                              "match as CSV. Admins see every event; a user, what they did and the events "
                              "about objects they may see."),
    )),
    Route("/api/v1/audit/runs/{id}/", ir.RunProvenanceResource, (
        Operation("GET", "RetrieveWorkerRunProvenance",
                  "Provenance of a worker run: who created it, when, from which request, and the "
                  "history of its worker and version up to then",
                  response=xs.run_provenance_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/", ir.WebhooksResource, (
        list_op("ListWebhooks", "List your webhook subscriptions (admin: all)", xs.webhook_schema, reads=(),
                tag="integrations"),
        Operation("POST", "CreateWebhook", "Subscribe a URL to integration events",
                  body=xs.create_webhook_body, response=xs.webhook_schema, status=201, tag="integrations",
                  description="Deliveries follow Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
                              "`webhook-signature`), in order, from now on. Without a `secret` one is "
                              "generated and shown once. URLs on internal networks are refused."),
    )),
    Route("/api/v1/webhooks/{id}/", ir.WebhookResource, (
        Operation("GET", "RetrieveWebhook", "Retrieve a webhook subscription", response=xs.webhook_schema,
                  tag="integrations", errors=(404,)),
        Operation("PATCH", "PartialUpdateWebhook", "Change a subscription's URL, events, or pause it",
                  body=xs.update_webhook_body, response=xs.webhook_schema, tag="integrations", errors=(404,)),
        Operation("DELETE", "DestroyWebhook", "Delete a webhook subscription", status=204,
                  tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/deliveries/", ir.WebhookDeliveriesResource, (
        Operation("GET", "RetrieveWebhookDeliveries", "Deliveries of a subscription and their attempts",
                  query=xs.deliveries_query, response=xs.deliveries_schema, tag="integrations",
                  errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/changes/", ir.WebhookChangesResource, (
        Operation("GET", "RetrieveWebhookChanges", "Who changed a subscription, when, and how",
                  response=xs.subscription_changes_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/resume/", ir.WebhookResumeResource, (
        Operation("POST", "ResumeWebhook", "Resume a paused subscription (parked events are retried first)",
                  response=xs.webhook_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/replay/", ir.WebhookReplayResource, (
        Operation("POST", "ReplayWebhook", "Deliver again every matching event from a position on",
                  body=xs.replay_body, response=xs.webhook_schema, tag="integrations", errors=(404, 409)),
    )),
    Route("/api/v1/webhooks/{id}/rotate-secret/", ir.WebhookRotateSecretResource, (
        Operation("POST", "RotateWebhookSecret",
                  "New signing secret (shown once); the previous one also signs for 24 hours",
                  body=xs.rotate_secret_body, response=xs.webhook_schema, tag="integrations", errors=(404,)),
    )),
    Route("/api/v1/webhooks/{id}/test/", ir.WebhookTestResource, (
        Operation("POST", "SendWebhookTestEvent", "Send a `webhook.test` event now",
                  response=xs.test_delivery_schema, tag="integrations", errors=(404,)),
    )),
)
