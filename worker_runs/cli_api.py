"""API commands: `worker-runs api` (the production HTTP server) and `worker-runs openapi`."""

from __future__ import annotations

import json
import os
from typing import Any

import click


@click.command("openapi")
@click.option("--indent", default=2, show_default=True, type=click.IntRange(min=0),
              help="JSON indentation (0 for one line).")
def openapi(indent: int) -> None:
    """Print the OpenAPI 3 document served at /api/v1/openapi/?format=json.

    Useful to give the official arkindex-client a local schema (ARKINDEX_API_SCHEMA_URL)
    or to diff the API between two versions. Needs no database.
    """
    # Imported here: `worker-runs --help` stays fast and needs no web stack.
    from api.app import package_version
    from api.openapi import build_spec
    from api.routes import ROUTES

    document = build_spec(ROUTES, version=package_version())
    click.echo(json.dumps(document, indent=indent or None))


def _default_workers() -> int:
    # gunicorn's advice for sync/gthread workers: 2 x cores + 1.
    return 2 * (os.cpu_count() or 1) + 1


def default_max_streams(threads: int) -> int:
    """Half the threads of a gunicorn worker, at least one."""
    return max(1, threads // 2)


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Worker processes (default: 2 x CPU cores + 1).")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(min=1),
              help="Threads per worker process (requests waiting for a projection and live "
                   "streams hold one).")
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(min=1),
              help="Seconds before a silent worker is restarted.")
def api(host: str, port: int, workers: int | None, threads: int, timeout: int) -> None:
    """Serve the HTTP API with gunicorn (production; `serve` is the all-in-one embedded mode).

    Reads the same WORKER_RUNS_* settings as every other command. The database must be
    migrated already (`worker-runs db upgrade`, the `migrate` service in docker-compose.yml);
    the projections are built by `worker-runs worker` and `worker-runs relay`.
    """
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise click.ClickException("gunicorn is not installed: pip install 'worker-runs[server]'") from None

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}", "workers": workers or _default_workers(), "threads": threads,
                "worker_class": "gthread", "timeout": timeout, "accesslog": "-", "errorlog": "-",
                # No preload: each worker builds its own engine and pool after the fork
                # (a pool inherited across fork shares sockets; reference/stack.md §4.2).
                "preload_app": False,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from api.app import create_app
            from worker_runs.bootstrap import bootstrap
            from worker_runs.logging_config import configure_logging

            # In each worker process, before the app: JSON lines, redacted, no locals.
            configure_logging("json")

            # Live streams hold a gthread thread each (up to WORKER_RUNS_SSE_MAX_SECONDS): by
            # default they may take half of them, the other half always serves requests.
            os.environ.setdefault("WORKER_RUNS_SSE_MAX_STREAMS", str(default_max_streams(threads)))
            return create_app(bootstrap())

    Server().run()
