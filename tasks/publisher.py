"""Publish projection tasks to Celery: what the relay (projections/relay.py) calls."""

from __future__ import annotations

from celery import Celery

from tasks.projections import RUN_PROJECTION


class CeleryPublisher:
    """Sends `run_projection(name, target)` messages: a name and a position, never events."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def publish(self, name: str, target: int) -> None:
        # Returns once the broker holds the message (a Redis LPUSH), so the relay may then
        # move its checkpoint; a failure raises and the checkpoint stays (at-least-once).
        self.app.send_task(RUN_PROJECTION, args=[name, target])
