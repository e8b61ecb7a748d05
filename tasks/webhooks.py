"""The webhook delivery task: deliver one subscription's due events, in order.

The logic lives in integrations/delivery.py; this is the Celery wrapper. The argument is a
subscription id, never an event: the run reads the events after the subscription's
checkpoint, so any message covers every earlier one that was lost or duplicated.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task

from integrations.delivery import Deliverer
from tasks.config import IDEMPOTENT_TASK_OPTIONS

DELIVER_WEBHOOKS = "worker_runs.webhooks.deliver"


def deliver_webhooks(deliverer: Deliverer, task: Task, subscription_id: str) -> dict[str, Any]:
    outcome = deliverer.run(subscription_id)
    if outcome.state == "retry":
        # The back-off, as a countdown (the kicker is the safety net if this message is lost).
        task.apply_async((subscription_id,), countdown=outcome.retry_after)
    elif outcome.state == "budget":
        task.apply_async((subscription_id,))
    return {"subscription_id": subscription_id, "state": outcome.state, "delivered": outcome.delivered}


def register(app: Celery, deliverer: Deliverer) -> None:
    """Register the webhook task on `app`, closed over the deliverer built by
    worker_runs.bootstrap (tasks/factory.py calls it)."""

    # shared=False: see tasks/projections.py.
    @app.task(bind=True, name=DELIVER_WEBHOOKS, shared=False, **IDEMPOTENT_TASK_OPTIONS)
    def deliver(task: Task, subscription_id: str) -> dict[str, Any]:
        return deliver_webhooks(deliverer, task, subscription_id)


class WebhookPublisher:
    """What the kicker publishes with: `deliver(subscription_id)` messages."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def __call__(self, subscription_id: str) -> None:
        self.app.send_task(DELIVER_WEBHOOKS, args=[subscription_id])
