"""Build the Celery app from the settings, its tasks closed over what worker_runs.bootstrap built."""

from __future__ import annotations

import weakref
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from sqlalchemy.engine import Engine

from integrations.delivery import Deliverer
from projections.runner import ProjectionRunner
from tasks import projections, webhooks
from tasks.config import celery_config
from worker_runs.settings import Settings

#: engines created in this process, to be reset in forked worker processes (weak: a test
#: session bootstraps many containers and must not keep them all alive)
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


@worker_process_init.connect
def _dispose_engines_after_fork(**_: Any) -> None:
    # SQLAlchemy's recommended fork recipe: drop the pool inherited from the parent without
    # closing its connections (they are the parent's); the child opens its own.
    for engine in list(_ENGINES):
        engine.dispose(close=False)


def create_celery_app(
    settings: Settings, *, engine: Engine, runner: ProjectionRunner, deliverer: Deliverer,
) -> Celery:
    """The Celery app and its tasks, each a closure over its dependencies; forked worker
    processes open their own connections to `engine` (sockets inherited from the parent must
    never be shared)."""
    # Not the "current" app: tests build several, each with its own broker and dependencies.
    app = Celery("worker_runs", set_as_current=False)
    app.config_from_object(celery_config(settings))
    projections.register(app, runner)
    webhooks.register(app, deliverer)  # integrations (issue 7)
    _ENGINES.add(engine)
    return app
