"""The webhook kicker: announces "subscription S has work" to the Celery workers.

The webhooks' counterpart of the projections' announcements, and run by the relay
(projections/relay.py) in its loop, under its singleton lock: two relays never both kick, and
the kicker needs no loop, lock or reconnect logic of its own. The `events` table is the outbox; the
kicker compares each active subscription's checkpoint with the head and publishes a small
`deliver(subscription_id)` message (an id, never an event) when there is something to do
and no delivery run holds the subscription's lease. Like the relay it re-announces a
subscription whose checkpoint has not moved for `catchup_interval` (a message lost with a
killed worker); duplicates are harmless (the lease and the inbox make them no-ops). A retry
waiting for its back-off is announced once it is due.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.log_consumer import head_position
from integrations.subscriptions import ACTIVE
from integrations.tables import webhook_deliveries, webhook_subscriptions


@dataclass
class _Sent:
    checkpoint: int
    at: float


class WebhookKicker:
    def __init__(
        self,
        engine: Engine,
        publish: Callable[[str], None],
        *,
        poll_interval: float = 0.2,
        catchup_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.publish = publish
        self.poll_interval = poll_interval
        self.catchup_interval = catchup_interval
        self.clock = clock
        self._sent: dict[str, _Sent] = {}
        #: some active subscription was behind the head at the last step: the relay looks again
        #: within `poll_interval` (a lease that ends or a retry that falls due sends no NOTIFY)
        self.behind = False

    def reset(self) -> None:
        """Forget what was announced (the relay took the lock anew: announce as a new kicker)."""
        self._sent.clear()

    def step(self, head: int | None = None) -> list[str]:
        """Publish for every subscription with due work; returns their ids. `head`: the
        position the relay just read (read here when not given)."""
        now, wall = self.clock(), datetime.now(UTC)
        due_retry = (
            sa.select(sa.func.min(webhook_deliveries.c.next_attempt_at))
            .where(
                webhook_deliveries.c.subscription_id == webhook_subscriptions.c.id,
                webhook_deliveries.c.status == "pending",
            )
            .scalar_subquery()
        )
        with self.engine.connect() as conn:
            head = head_position(conn) if head is None else head
            rows = conn.execute(
                sa.select(
                    webhook_subscriptions.c.id,
                    webhook_subscriptions.c.checkpoint,
                    webhook_subscriptions.c.lease_until,
                    due_retry.label("next_attempt_at"),
                ).where(webhook_subscriptions.c.state == ACTIVE, webhook_subscriptions.c.checkpoint < head)
            ).all()
        self.behind = bool(rows)
        published = []
        for row in rows:
            if row.lease_until is not None and row.lease_until > wall:
                continue  # a delivery run is at work
            if row.next_attempt_at is not None and row.next_attempt_at > wall:
                continue  # waiting for its back-off (the run scheduled itself for then)
            sent = self._sent.get(row.id)
            if (
                sent is not None
                and sent.checkpoint == row.checkpoint
                and now - sent.at < self.catchup_interval
            ):
                continue  # announced, not served yet
            self.publish(row.id)
            self._sent[row.id] = _Sent(row.checkpoint, now)
            published.append(row.id)
        return published
