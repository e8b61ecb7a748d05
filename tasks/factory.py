"""Build the Celery app from the settings; worker_runs.bootstrap binds it to the container."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.signals import worker_process_init
from sqlalchemy.engine import Engine

from tasks import projections, webhooks
from tasks.config import celery_config
from worker_runs.settings import Settings

if TYPE_CHECKING:
    from worker_runs.bootstrap import Container

#: engines created in this process, to be reset in forked worker processes (weak: a test
#: session bootstraps many containers and must not keep them all alive)
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


@worker_process_init.connect
def _dispose_engines_after_fork(**_: Any) -> None:
    # SQLAlchemy's recommended fork recipe: drop the pool inherited from the parent without
    # closing its connections (they are the parent's); the child opens its own.
    for engine in list(_ENGINES):
        engine.dispose(close=False)


def create_celery_app(settings: Settings) -> Celery:
    # Not the "current" app: tests build several, each with its own broker and container.
    app = Celery("worker_runs", set_as_current=False)
    app.config_from_object(celery_config(settings))
    projections.register(app)
    webhooks.register(app)  # integrations (issue 7)
    return app


def bind_container(app: Celery, container: Container) -> None:
    """Give the tasks their container, and have forked worker processes open their own
    database connections (sockets inherited from the parent must never be shared)."""
    app.worker_runs_container = container
    _ENGINES.add(container.engine)
