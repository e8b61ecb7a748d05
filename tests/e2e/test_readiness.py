"""/readyz says "degraded" when the projections' lag keeps growing or a supervised component
(serve's Celery worker) is failing; serve restarts a crash-looping worker with a back-off
instead of exiting (issue 12, items 2 and 9)."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest

from api.app import create_app
from commands import messages as m
from worker_runs import health
from worker_runs.bootstrap import Container
from worker_runs.serve import CRASH_LOOP_STARTS, WorkerProcess
from worker_runs.settings import Settings


@pytest.fixture(autouse=True)
def clean_health() -> Iterator[None]:
    yield
    for component in health.problems():
        health.report(component, None)


def _client(container: Container, max_lag: float) -> falcon.testing.TestClient:
    settings = dataclasses.replace(container.settings, ready_max_lag_seconds=max_lag)
    return falcon.testing.TestClient(create_app(dataclasses.replace(container, settings=settings)))


def test_readyz_is_degraded_while_a_projection_lag_keeps_growing(container: Container) -> None:
    client = _client(container, max_lag=0.3)
    container.bus.handle(m.RegisterUser("alice", "alice@example.org", False))  # nobody projects it
    fresh = client.simulate_get("/readyz")
    assert fresh.status_code == 200 and fresh.json["status"] == "ok", fresh.json  # just written: fine
    time.sleep(0.5)
    stalled = client.simulate_get("/readyz")
    assert stalled.status_code == 200  # writes still work, reads answer (marked stale)
    assert stalled.json["status"] == "degraded"
    assert {f"projection:{name}" for name in container.runner.names} <= set(stalled.json["problems"])
    assert all(p["lag_seconds"] >= 0.3 for p in stalled.json["projections"].values())
    for name in container.runner.names:
        container.runner.catch_up(name)
    recovered = client.simulate_get("/readyz")
    assert recovered.json["status"] == "ok" and recovered.json["problems"] == {}


def test_readyz_reports_a_failing_component(container: Container) -> None:
    client = _client(container, max_lag=30)
    health.report("celery-worker", "crash-looping")
    assert client.simulate_get("/readyz").json["problems"] == {"celery-worker": "crash-looping"}
    health.report("celery-worker", None)
    assert client.simulate_get("/readyz").json["status"] == "ok"


def test_a_crash_looping_worker_is_restarted_with_a_back_off_never_given_up(tmp_path: Path) -> None:
    now = [1000.0]
    worker = WorkerProcess(Settings(home=tmp_path, database_url="sqlite://"), concurrency=1,
                           clock=lambda: now[0])
    worker.command = [sys.executable, "-c", "raise SystemExit(3)"]
    worker.start()
    starts = 1
    deadline = time.monotonic() + 30
    while "celery-worker" not in health.problems():
        assert time.monotonic() < deadline, "never reported"
        assert worker.process is None or worker.process.wait(10) == 3
        worker.check()  # restarts it at once while it is not a crash loop
        starts += worker.process is not None
    assert starts == CRASH_LOOP_STARTS
    assert worker.process is None  # waiting for its back-off: nothing raised, nothing exits
    assert "next start in 2s" in health.problems()["celery-worker"]
    now[0] += 1.9
    worker.check()
    assert worker.process is None  # not before the back-off
    now[0] += 0.2
    worker.check()
    assert worker.process is not None  # tried again after the back-off
    worker.process.wait(10)
    worker.check()
    assert "next start in 4s" in health.problems()["celery-worker"]
    worker.stop()
