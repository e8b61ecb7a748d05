"""Prometheus gauges for projection lag, read from the database at scrape time.

The values come from the database, not from process memory, so every API process renders
the same numbers: the gauges live in their own registry (no multiprocess files needed) and
the API's /metrics endpoint calls `render_projection_metrics(engine, names)` and appends the
body to whatever else it exports.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy.engine import Engine

from projections.status import projection_statuses, relay_checkpoint

REGISTRY = CollectorRegistry(auto_describe=True)

LAG_EVENTS = Gauge(
    "worker_runs_projection_lag_events", "Events recorded but not yet applied by the live generation.",
    ["projection"], registry=REGISTRY,
)
LAG_SECONDS = Gauge(
    "worker_runs_projection_lag_seconds",
    "Age of the oldest event the live generation has not applied (0 when caught up).",
    ["projection"], registry=REGISTRY,
)
CHECKPOINT = Gauge(
    "worker_runs_projection_checkpoint", "Position of the last event applied by the live generation.",
    ["projection"], registry=REGISTRY,
)
PARKED = Gauge(
    "worker_runs_projection_parked_events", "Events parked in dead_letters (failed or held).",
    ["projection"], registry=REGISTRY,
)
HEAD = Gauge("worker_runs_event_head", "Position of the last recorded event.", registry=REGISTRY)
RELAY_LAG = Gauge(
    "worker_runs_relay_lag_events", "Events recorded but not yet announced to the workers by the relay.",
    registry=REGISTRY,
)


def refresh_projection_metrics(engine: Engine, names: Iterable[str] | None = None) -> None:
    """Set every gauge from the database (`names`: default, every read model)."""
    statuses = projection_statuses(engine, names)
    head = statuses[0].head if statuses else 0
    for status in statuses:
        LAG_EVENTS.labels(status.name).set(status.lag_events)
        LAG_SECONDS.labels(status.name).set(status.lag_seconds)
        CHECKPOINT.labels(status.name).set(status.checkpoint)
        PARKED.labels(status.name).set(status.parked)
    HEAD.set(head)
    RELAY_LAG.set(max(head - relay_checkpoint(engine), 0))


def render_projection_metrics(engine: Engine, names: Iterable[str] | None = None) -> tuple[bytes, str]:
    """Refresh the gauges and render them: (body, content type) for a /metrics response."""
    refresh_projection_metrics(engine, names)
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
