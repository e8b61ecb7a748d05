"""Public, unauthenticated resources: the OpenAPI document, its interactive docs, health, metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import falcon
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api import base_schemas as b
from api.route_table import Operation, Route
from eventstore import SqlEventStore
from eventstore.log_consumer import head_position
from integrations.all_projections import ALL_PROJECTIONS
from projections import bookkeeping as bk
from projections import queries
from projections.metrics import render_projection_metrics
from worker_runs import health
from worker_runs.settings import Settings


class SchemaResource:
    """GET /api/v1/openapi/?format=json. Built once; the client fetches it before it has a token."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._body = json.dumps(spec, sort_keys=False).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self._body
        resp.content_type = falcon.MEDIA_JSON


DOCS_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>worker-runs API</title>
  <link rel="stylesheet" href="static/swagger-ui.css">
  <link rel="icon" type="image/png" href="static/favicon-32x32.png">
</head>
<body>
  <nav style="font: 14px system-ui, sans-serif; padding: 10px 20px; background: #1d2330;">
    <a href="../../../worker-runs" style="color: #fff;">&larr; Back to worker runs</a>
  </nav>
  <div id="swagger-ui"></div>
  <script src="static/swagger-ui-bundle.js"></script>
  <script>
    // Relative URLs: the page works wherever the API is mounted. "Authorize" takes
    // `Token <your token>`.
    window.ui = SwaggerUIBundle({url: "../openapi/?format=json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
"""


def swagger_ui_assets() -> Path:
    """Swagger UI's files, shipped by the swagger-ui-py package (no CDN: works offline)."""
    return Path(str(importlib_resources.files("swagger_ui") / "static"))


class DocsResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.text = DOCS_HTML
        resp.content_type = falcon.MEDIA_HTML


class LivezResource:
    """Liveness: no dependency checks, so a database blip never restarts the process."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class MetricsResource:
    """Prometheus metrics: projection lag (events and seconds), checkpoints, parked events,
    the event head and the relay's lag, read from the database on each scrape so every API
    process answers the same (projections/metrics.py)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data, resp.content_type = render_projection_metrics(self.engine, ALL_PROJECTIONS)


class ReadyzResource:
    """Readiness: the database answers (else 503); projection lag is reported.

    `status` is "degraded" (still 200: writes work and reads answer, marked stale) when a
    projection's oldest unapplied event is older than WORKER_RUNS_READY_MAX_LAG seconds, i.e.
    its lag keeps growing (a stopped relay or worker, a broker away), or when a component this
    process supervises reports a problem (worker_runs/health.py); `problems` says which.
    """

    def __init__(self, engine: Engine, store: SqlEventStore, settings: Settings | None = None) -> None:
        self.engine = engine
        self.store = store
        self.max_lag_seconds = settings.ready_max_lag_seconds if settings else 30.0

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
                positions = queries.projection_positions(conn, list(ALL_PROJECTIONS))
                head = head_position(conn)
                now = datetime.now(UTC)
                ages = {
                    name: _oldest_unapplied_age(conn, position, head, now)
                    for name, position in positions.items()
                }
        except sa.exc.SQLAlchemyError as exc:
            resp.status = falcon.HTTP_503
            resp.set_header("Retry-After", "5")
            resp.media = {"status": "unavailable", "database": type(exc).__name__}
            return
        problems = health.problems()
        for name, age in ages.items():
            if age > self.max_lag_seconds:
                problems[f"projection:{name}"] = (
                    f"lag growing: its oldest unapplied event is {age:.0f}s old "
                    f"(limit {self.max_lag_seconds:g}s)"
                )
        resp.media = {
            "status": "degraded" if problems else "ok",
            "database": "ok",
            "head": head,
            "projections": {
                name: {"position": position, "lag": max(head - position, 0),
                       "lag_seconds": round(ages[name], 3)}
                for name, position in positions.items()
            },
            "problems": problems,
        }


def _oldest_unapplied_age(conn: sa.Connection, position: int, head: int, now: datetime) -> float:
    if position >= head:
        return 0.0
    recorded_at = bk.recorded_at_after(conn, position)
    if recorded_at is None:
        return 0.0
    if recorded_at.tzinfo is None:  # SQLite gives naive UTC datetimes
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return max((now - recorded_at).total_seconds(), 0.0)


#: public: the document itself, its docs, health
SYSTEM_ROUTES: tuple[Route, ...] = (
    Route("/api/v1/openapi/", SchemaResource, (
        Operation("GET", "RetrieveOpenAPISchema", "This OpenAPI document (JSON)", query=b.schema_query,
                  public=True, tag="system"),
    )),
    Route("/api/v1/docs/", DocsResource, (
        Operation("GET", "RetrieveAPIDocs", "Interactive documentation (Swagger UI)", public=True,
                  tag="system",
                  content_type="text/html"),
    )),
    Route("/livez", LivezResource, (
        Operation("GET", "RetrieveLiveness", "Liveness probe", public=True, tag="system"),
    )),
    Route("/metrics", MetricsResource, (
        Operation("GET", "RetrieveMetrics", "Prometheus metrics: projection lag, checkpoints, parked events",
                  public=True, tag="system", content_type="text/plain"),
    )),
    Route("/readyz", ReadyzResource, (
        Operation("GET", "RetrieveReadiness", "Readiness probe: database and projection lag", public=True,
                  tag="system", errors=(503,)),
    )),
)
