"""The Celery configuration the projection tasks rely on, and the fork-safety hook."""

from __future__ import annotations

from pathlib import Path

from celery.signals import worker_process_init

from tasks.config import TASK_TIME_BUDGET, VISIBILITY_TIMEOUT, celery_config
from tasks.projections import RUN_PROJECTION
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.settings import Settings


def test_the_settings_the_tasks_depend_on() -> None:
    settings = Settings(home=Path("/tmp"), database_url="sqlite://", broker_url="redis://h:1/0",
                        celery_queue="q1", broker_prefix="p1:")
    conf = celery_config(settings)
    assert conf["task_serializer"] == "json" and conf["accept_content"] == ["json"]
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["worker_hijack_root_logger"] is False
    transport = conf["broker_transport_options"]
    assert transport["visibility_timeout"] == VISIBILITY_TIMEOUT > 10 * TASK_TIME_BUDGET
    assert transport["global_keyprefix"] == "p1:"
    assert conf["task_default_queue"] == "q1"


def test_the_task_is_registered_late_acked_and_named(container: Container) -> None:
    task = container.celery.tasks[RUN_PROJECTION]
    assert task.acks_late and task.reject_on_worker_lost
    routes = container.celery.conf.task_routes
    assert routes["worker_runs.projections.*"]["queue"] == container.settings.celery_queue


def test_a_forked_worker_process_gets_a_fresh_pool(tmp_path: Path) -> None:
    container = bootstrap(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    with container.engine.connect():
        pass
    pool_before = container.engine.pool
    worker_process_init.send(sender="celery@test")
    assert container.engine.pool is not pool_before  # dispose(close=False) replaced it
    container.engine.dispose()
