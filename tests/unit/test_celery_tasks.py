"""The Celery tasks are closures over the dependencies worker_runs.bootstrap built: no task
finds a container on its app, and each app runs its own runner and deliverer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tasks.factory import create_celery_app
from tasks.projections import RUN_PROJECTION
from tasks.webhooks import DELIVER_WEBHOOKS
from worker_runs.settings import Settings


@dataclass
class FakeRunner:
    checkpoint: int = 0
    calls: list[tuple[str, int]] = field(default_factory=list)

    def live_checkpoint(self, name: str) -> int:
        return self.checkpoint

    def catch_up(self, name: str, target: int, *, time_budget: float) -> Any:
        self.calls.append((name, target))
        return _Result(checkpoint=target, processed=target - self.checkpoint)


@dataclass
class _Result:
    checkpoint: int
    processed: int
    caught_up: bool = True
    retry_after: float | None = None


@dataclass
class FakeDeliverer:
    calls: list[str] = field(default_factory=list)

    def run(self, subscription_id: str) -> Any:
        self.calls.append(subscription_id)
        return _Outcome()


@dataclass
class _Outcome:
    state: str = "idle"
    delivered: int = 0
    retry_after: float | None = None


def _app(runner: FakeRunner, deliverer: FakeDeliverer) -> Any:
    settings = Settings(home=Path("/tmp"), database_url="sqlite://")
    # No connection is opened: the engine is only remembered for the fork hook.
    return create_celery_app(settings, engine=sa.create_engine("sqlite://"), runner=runner,  # type: ignore[arg-type]
                             deliverer=deliverer)  # type: ignore[arg-type]


def test_each_app_runs_the_dependencies_it_was_built_with() -> None:
    # Two apps, as a test session builds: a task shared between apps (Celery's default) would
    # run the first app's runner in the second.
    first, second = (FakeRunner(), FakeDeliverer()), (FakeRunner(checkpoint=3), FakeDeliverer())
    apps = [_app(*first), _app(*second)]
    for app in apps:
        assert not hasattr(app, "worker_runs_container")  # nothing to find on the app
    assert apps[1].tasks[RUN_PROJECTION].apply(args=("runs", 7)).get() == {
        "name": "runs", "target": 7, "checkpoint": 7, "processed": 4,
    }
    apps[1].tasks[DELIVER_WEBHOOKS].apply(args=("sub-2",)).get()
    apps[0].tasks[DELIVER_WEBHOOKS].apply(args=("sub-1",)).get()
    assert (first[0].calls, second[0].calls) == ([], [("runs", 7)])
    assert (first[1].calls, second[1].calls) == (["sub-1"], ["sub-2"])


def test_a_duplicate_projection_task_is_skipped() -> None:
    runner = FakeRunner(checkpoint=9)
    app = _app(runner, FakeDeliverer())
    assert app.tasks[RUN_PROJECTION].apply(args=("runs", 5)).get() == {
        "name": "runs", "target": 5, "skipped": True,
    }
    assert runner.calls == []
