"""The webhook delivery task: deliver one subscription's due events, in order.

The logic lives in integrations/delivery.py; this is the Celery wrapper. The argument is a
subscription id, never an event: the run reads the events after the subscription's
checkpoint, so any message covers every earlier one that was lost or duplicated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery import Celery, Task

from integrations.delivery import Deliverer, DeliveryPolicy
from tasks.config import IDEMPOTENT_TASK_OPTIONS
from tasks.projections import container_of

if TYPE_CHECKING:
    from worker_runs.settings import Settings

DELIVER_WEBHOOKS = "worker_runs.webhooks.deliver"


def policy_from(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        timeout=settings.webhook_timeout_seconds,
        max_attempts=settings.webhook_max_attempts,
        backoff=settings.webhook_backoff_seconds,
        backoff_max=settings.webhook_backoff_max_seconds,
        allow_private=settings.webhook_allow_private,
    )


def deliver_webhooks(task: Task, subscription_id: str) -> dict[str, Any]:
    container = container_of(task.app)
    outcome = Deliverer(container.engine, policy_from(container.settings)).run(subscription_id)
    if outcome.state == "retry":
        # The back-off, as a countdown (the kicker is the safety net if this message is lost).
        task.apply_async((subscription_id,), countdown=outcome.retry_after)
    elif outcome.state == "budget":
        task.apply_async((subscription_id,))
    return {"subscription_id": subscription_id, "state": outcome.state, "delivered": outcome.delivered}


def register(app: Celery) -> None:
    """Register the webhook task on `app` (tasks/factory.py calls it)."""
    app.task(bind=True, name=DELIVER_WEBHOOKS, **IDEMPOTENT_TASK_OPTIONS)(deliver_webhooks)


class WebhookPublisher:
    """What the kicker publishes with: `deliver(subscription_id)` messages."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def __call__(self, subscription_id: str) -> None:
        self.app.send_task(DELIVER_WEBHOOKS, args=[subscription_id])
