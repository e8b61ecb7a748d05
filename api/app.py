"""The Falcon WSGI application: `create_app(container)`.

The container (worker_runs.bootstrap) is the single composition root; this module only
wires HTTP concerns around it: the route table (api/routes.py), the edge middleware, the
error mapping (api/errors.py), JSON handling, the OpenAPI document and Swagger UI's assets.
"""

from __future__ import annotations

import functools
import inspect
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import falcon
import falcon.media

from api import errors
from api.middleware import BodyLimitMiddleware, EdgeMiddleware, RequestIdMiddleware
from api.openapi import build_spec
from api.operations import attach
from api.route_table import Operation, Route
from api.routes import ROUTES
from api.system import swagger_ui_assets
from api.ui import routes as ui
from worker_runs.bootstrap import Container
from worker_runs.logging_config import configure_logging

#: request bodies are small JSON documents; anything bigger is refused before parsing
MAX_BODY_BYTES = 1024 * 1024
DOCS_STATIC_PREFIX = "/api/v1/docs/static"
UI_STATIC_DIR = Path(__file__).resolve().parent / "ui" / "static"


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and PostgreSQL's JSONB refuses them.
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        # Absurdly deep nesting: a client error (Falcon turns ValueError into a 400).
        raise ValueError("JSON nested too deeply") from None


def _json_handler() -> falcon.media.JSONHandler:
    return falcon.media.JSONHandler(
        dumps=functools.partial(json.dumps, ensure_ascii=False, allow_nan=False),
        loads=_loads,
    )


def package_version() -> str:
    try:
        return version("worker-runs")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


def _build(resource_class: type, deps: dict[str, Any]) -> object:
    """Instantiate a resource with the collaborators its __init__ names (as the bus injects
    handler dependencies by parameter name)."""
    params = inspect.signature(resource_class).parameters
    return resource_class(**{name: dep for name, dep in deps.items() if name in params})


def create_app(container: Container, *, routes: tuple[Route, ...] = ROUTES) -> falcon.App:
    # Whatever hosts the app (serve, gunicorn, another WSGI server), its logs are redacted and
    # its tracebacks carry no local variables; a no-op when the entry point configured them.
    configure_logging()
    web = container.web  # built once, in worker_runs/bootstrap.py
    spec = build_spec(routes, version=package_version())
    deps: dict[str, Any] = {
        # the SSE stream re-checks its caller's credential while it runs
        "authenticator": web.authenticator,
        "commands": web.commands,
        "reads": web.reads,
        "stream_slots": web.stream_slots,
        "spec": spec,
        "engine": container.engine,
        "store": container.store,
        # integrations (api/integrations/resources.py): stream, feed and webhook settings
        "settings": container.settings,
        "deliverer": container.deliverer,
    }
    operations: dict[int, dict[str, Operation]] = {}
    resources: list[tuple[Route, object]] = []
    for route in routes:
        resource = _build(route.resource, deps)
        attach(resource, route)  # generic operations: responders from their rows
        operations[id(resource)] = {op.method: op for op in route.operations}
        resources.append((route, resource))

    middleware: list[Any] = [
        RequestIdMiddleware(),
        BodyLimitMiddleware(MAX_BODY_BYTES),
        EdgeMiddleware(operations, web.authenticator, web.reads, web.sessions),
    ]
    app = falcon.App(middleware=middleware)
    handler = _json_handler()
    app.req_options.media_handlers[falcon.MEDIA_JSON] = handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = handler
    errors.install(app)
    for route, resource in resources:
        app.add_route(route.template, resource)
    app.add_static_route(DOCS_STATIC_PREFIX, str(swagger_ui_assets()))
    # --- the web UI (HTML pages and fragments, outside the route table and the OpenAPI document)
    ui.install(app, sessions=web.sessions, authenticator=web.authenticator, commands=web.commands,
               reads=web.reads, static_dir=str(UI_STATIC_DIR))
    return app
