"""The projection task: bring one projection up to (at least) a target position.

The logic lives in projections/runner.py; this is the Celery wrapper. Arguments are a
projection name and a position, never event objects (Celery's "State" guidance): the task
re-reads the events after its checkpoint, so any task for a projection also covers every
earlier one that was lost, delayed or delivered twice.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task

from projections.runner import ProjectionRunner
from tasks.config import IDEMPOTENT_TASK_OPTIONS, TASK_TIME_BUDGET

log = logging.getLogger(__name__)

RUN_PROJECTION = "worker_runs.projections.run"


def run_projection(runner: ProjectionRunner, task: Task, name: str, target: int) -> dict[str, Any]:
    if runner.live_checkpoint(name) >= target:
        # A duplicate, or a later task already went past it: nothing to wait for.
        return {"name": name, "target": target, "skipped": True}
    result = runner.catch_up(name, target, time_budget=TASK_TIME_BUDGET)
    if not result.caught_up and result.retry_after is None:
        # Out of time with work left: a fresh message, rather than one long task.
        task.apply_async((name, target))
    elif result.retry_after is not None:
        # A failing event waits for its back-off; the relay's catch-up republishes.
        log.info("projection %s waits %.1fs before retrying a failing event", name, result.retry_after)
    return {"name": name, "target": target, "checkpoint": result.checkpoint, "processed": result.processed}


def register(app: Celery, runner: ProjectionRunner) -> None:
    """Register the projection task on `app`, closed over the runner built by
    worker_runs.bootstrap (tasks/factory.py calls it)."""

    # shared=False: a shared task is added to every Celery app created afterwards, and a test
    # session builds many, each with its own runner.
    @app.task(bind=True, name=RUN_PROJECTION, shared=False, **IDEMPOTENT_TASK_OPTIONS)
    def run(task: Task, name: str, target: int) -> dict[str, Any]:
        return run_projection(runner, task, name, target)
