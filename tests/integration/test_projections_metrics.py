"""Lag as status numbers and as Prometheus gauges (what the API's /metrics renders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from projections.metrics import render_projection_metrics
from projections.runner import ProjectionRunner
from projections.status import projection_statuses
from tests.projection_workload import Workload
from worker_runs.bootstrap import Container


def samples(body: bytes) -> dict[tuple[str, str], float]:
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, sample.labels.get("projection", ""))] = sample.value
    return found


def test_status_lag_in_events_and_seconds(container: Container) -> None:
    w = Workload(container.bus, seed=1)
    for _ in range(20):
        w.random_command()
    head = container.store.head()
    ProjectionRunner(container.engine, batch_size=5).run_batch("catalog")
    later = datetime.now(UTC) + timedelta(seconds=30)
    by_name = {s.name: s for s in projection_statuses(container.engine, clock=lambda: later)}
    catalog = by_name["catalog"]
    assert (catalog.checkpoint, catalog.head, catalog.lag_events) == (5, head, head - 5)
    # The oldest unprocessed event (position 6) was recorded moments ago: ~30 s old "later".
    assert 29 < catalog.lag_seconds < 60
    container.runner.catch_up("user_runs")
    assert by_name["user_runs"].lag_events == head
    caught_up = {s.name: s for s in projection_statuses(container.engine, clock=lambda: later)}["user_runs"]
    assert caught_up.lag_events == 0 and caught_up.lag_seconds == 0.0


def test_metrics_render_the_gauges(container: Container) -> None:
    w = Workload(container.bus, seed=2)
    for _ in range(10):
        w.random_command()
    head = container.store.head()
    container.runner.catch_up("catalog")
    body, content_type = render_projection_metrics(container.engine)
    assert content_type.startswith("text/plain")
    values = samples(body)
    assert values[("worker_runs_event_head", "")] == head
    assert values[("worker_runs_projection_checkpoint", "catalog")] == head
    assert values[("worker_runs_projection_lag_events", "catalog")] == 0
    assert values[("worker_runs_projection_lag_events", "user_runs")] == head
    assert values[("worker_runs_projection_lag_seconds", "user_runs")] >= 0
    assert values[("worker_runs_projection_parked_events", "user_runs")] == 0
    # Refreshed on every render.
    container.runner.catch_up("user_runs")
    values = samples(render_projection_metrics(container.engine)[0])
    assert values[("worker_runs_projection_lag_events", "user_runs")] == 0
