"""CLI commands for the read side: `projections …`, `relay`, `worker` and `serve`.

Registered in worker_runs/cli.py. Production runs N API processes, N `worker-runs worker`
(or `celery -A tasks.app worker`) and one `worker-runs relay`; `worker-runs serve` runs all
of it in one command for the embedded default.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from projections.runner import ParkedEventNotRoot, UnknownProjection
from projections.status import projection_statuses, relay_checkpoint
from worker_runs.bootstrap import Container
from worker_runs.cli_context import current_container
from worker_runs.logging_config import configure_logging
from worker_runs.root_notice import say_once_when_root


class BrokerNotConfigured(click.ClickException):
    def __init__(self) -> None:
        super().__init__(
            "WORKER_RUNS_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0). "
            "`worker-runs serve` starts an embedded broker when it is unset."
        )


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = max(console.width, 120)  # piped or captured: do not wrap the tables
    return console


def _configure_logging(level: str | None = None, default_format: str = "console") -> None:
    # One pipeline for every command (worker_runs/logging_config.py): redacted, no locals.
    configure_logging(default_format, level=level)


def _on_stop_signals(handler: Callable[[int, Any], None]) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def _projection_names(container: Container, name: str | None, all_: bool) -> list[str]:
    if all_ == (name is not None):
        raise click.UsageError("Give a projection NAME or --all.")
    names = list(container.runner.names) if all_ else [name or ""]
    for n in names:
        try:
            container.runner.projection(n)
        except UnknownProjection:
            raise click.BadParameter(
                f"no projection named {n!r} (known: {', '.join(container.runner.names)})", param_hint="NAME",
            ) from None
    return names


# --- projections ------------------------------------------------------------------------------


@click.group()
def projections() -> None:
    """Read models: status, rebuild, parked events."""


@projections.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def projections_status(as_json: bool) -> None:
    """Per projection: live generation, checkpoint, head, lag in events and seconds."""
    container = current_container()
    statuses = projection_statuses(container.engine, container.runner.names)
    relay = relay_checkpoint(container.engine)
    if as_json:
        click.echo(json.dumps({"relay_checkpoint": relay, "projections": [s.as_dict() for s in statuses]}))
        return
    table = Table(title=f"Projections (relay checkpoint {relay})")
    for column in ("projection", "live gen", "checkpoint", "head", "lag", "lag (s)", "rebuilding",
                   "parked", "failing"):
        table.add_column(column, justify="left" if column == "projection" else "right")
    for s in statuses:
        rebuild = "-"
        if s.building_generation is not None:
            rebuild = f"gen {s.building_generation} @ {s.building_checkpoint}"
        table.add_row(s.name, str(s.live_generation), str(s.checkpoint), str(s.head), str(s.lag_events),
                      f"{s.lag_seconds:.1f}", rebuild, str(s.parked), str(s.failing))
    _console().print(table)


@projections.command("rebuild")
@click.argument("name", required=False)
@click.option("--all", "all_", is_flag=True,
              help="Rebuild every projection, together: one read of the log feeds them all.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(min=1))
def projections_rebuild(name: str | None, all_: bool, batch_size: int) -> None:
    """Rebuild NAME (or --all) from the first event, beside the live generation.

    The live read model keeps serving; the new generation becomes live in the transaction of
    its last batch, then the old rows are deleted. Runs in this process (no broker needed);
    an interrupted rebuild resumes where it stopped when run again.
    """
    container = current_container()
    names = _projection_names(container, name, all_)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>8.0f} events/s"), TimeRemainingColumn())
    with Progress(*columns, console=_console(stderr=True)) as progress:
        tasks = {n: progress.add_task(n, total=None, rate=0.0) for n in names}

        def report(n: str, checkpoint: int, head: int) -> None:
            task = tasks[n]
            elapsed = progress.tasks[task].elapsed or 0.0
            progress.update(task, completed=checkpoint, total=max(head, checkpoint, 1),
                            rate=checkpoint / elapsed if elapsed > 0 else 0.0)

        # One read of the log feeds every projection named (projections/runner.py, rebuild_all).
        for result in container.runner.rebuild_all(names, batch_size=batch_size, progress=report):
            rate = result.events / result.seconds if result.seconds > 0 else 0.0
            progress.update(tasks[result.name], rate=rate)
            progress.console.print(
                f"{result.name}: generation {result.generation} is live at position {result.checkpoint} "
                f"({result.events} events in {result.seconds:.2f}s, {rate:.0f} events/s); "
                f"generation {result.old_generation} deleted."
            )


@projections.command("parked")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
def projections_parked(name: str | None, as_json: bool) -> None:
    """List parked events (failed after their retries, or held behind one of their stream)."""
    container = current_container()
    try:
        rows = container.runner.parked(name)
    except UnknownProjection as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if as_json:
        for row in rows:
            data = row._asdict()
            data["parked_at"] = data["parked_at"].isoformat()
            click.echo(json.dumps(data))
        return
    if not rows:
        click.echo("No parked events.")
        return
    table = Table(title="Parked events")
    for column in ("projection", "position", "stream", "attempts", "held behind", "parked at", "error"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.name, str(r.global_position), r.stream_id, str(r.attempts),
                      "" if r.held_behind is None else str(r.held_behind),
                      r.parked_at.isoformat(timespec="seconds"), r.error[:120])
    _console().print(table)


@projections.command("retry")
@click.argument("name", required=False)
@click.option("--position", type=click.IntRange(min=1), default=None,
              help="Only this parked event and the events held behind it.")
def projections_retry(name: str | None, position: int | None) -> None:
    """Replay parked events of NAME (default: every projection) in position order.

    Events that apply are removed from the parked list; exits with status 1 when some fail again.
    """
    container = current_container()
    if position is not None and name is None:
        raise click.UsageError("--position needs a projection NAME.")
    names = [name] if name else container.runner.names
    still = 0
    for n in names:
        try:
            result = container.runner.retry_parked(n, position)
        except UnknownProjection as exc:
            raise click.BadParameter(str(exc), param_hint="NAME") from None
        except ParkedEventNotRoot as exc:
            raise click.ClickException(str(exc)) from None
        still += len(result.still_parked)
        click.echo(f"{n}: replayed {len(result.replayed)}, still parked {len(result.still_parked)}")
    if still:
        sys.exit(1)


# --- relay, worker, serve --------------------------------------------------------------------


@click.command("relay")
@click.option("--poll", type=float, default=None,
              help="Seconds between polls (default: 1 on PostgreSQL, woken by NOTIFY; 0.05 on SQLite).")
@click.option("--catchup", type=float, default=2.0, show_default=True,
              help="Republish for a projection that is behind and has not moved for this long.")
@click.option("--webhook-poll", type=float, default=0.2, show_default=True,
              help="Seconds between two looks while a webhook subscription is behind the head.")
def relay(poll: float | None, catchup: float, webhook_poll: float) -> None:
    """Announce new events to the projection workers and subscriptions with due webhooks to the
    delivery workers (run exactly one; others stand by)."""
    _configure_logging(default_format="json")
    container = current_container()
    if container.settings.broker_url is None:
        raise BrokerNotConfigured()
    stop = threading.Event()
    _on_stop_signals(lambda *_: stop.set())
    container.relay(poll_interval=poll, catchup_interval=catchup,
                    webhook_poll=webhook_poll).run(stop)


@click.command("worker")
@click.option("--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork",
              show_default=True)
@click.option("--concurrency", "-c", type=click.IntRange(min=1), default=None,
              help="Worker processes or threads (default: the number of CPUs).")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--stop-with-parent", is_flag=True, hidden=True,
              help="Stop when standard input closes (`serve` uses it: a killed parent leaves no orphan).")
@click.pass_context
def worker(
    ctx: click.Context, pool: str, concurrency: int | None, loglevel: str, stop_with_parent: bool,
) -> None:
    """Run a Celery worker for the projection tasks (same as `celery -A tasks.app worker`)."""
    _configure_logging(loglevel.upper(), default_format="json")
    container = current_container()
    if container.settings.broker_url is None:
        raise BrokerNotConfigured()
    if stop_with_parent:
        threading.Thread(target=_terminate_on_stdin_eof, daemon=True, name="parent-watch").start()
    argv = ["worker", f"--pool={pool}", f"--loglevel={loglevel}", "-Q", container.settings.celery_queue,
            # Nothing to gossip about: tasks coordinate through the database.
            "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    say_once_when_root(container.celery.conf.accept_content)
    container.celery.worker_main(argv)


def _terminate_on_stdin_eof() -> None:
    # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read would
    # hold the buffer's lock while the interpreter shuts down (a fatal error at exit).
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(min=0, max=65535))
@click.option("--app", "app_spec", default="api.app:create_app", show_default=True,
              help="The WSGI application factory, MODULE:FUNCTION, called with the container.")
@click.option("--threads", default=32, show_default=True, type=click.IntRange(min=2),
              help="HTTP threads (waitress). Requests waiting for a projection and live streams hold "
                   "one; live streams may take half (WORKER_RUNS_SSE_MAX_STREAMS).")
def serve(host: str, port: int, app_spec: str, threads: int) -> None:
    """Run everything in one command: HTTP API, relay and a Celery worker.

    With no WORKER_RUNS_DATABASE_URL / WORKER_RUNS_BROKER_URL it needs no service: SQLite
    under WORKER_RUNS_HOME and an embedded Redis-compatible broker. Applies the migrations
    first. Ctrl-C or SIGTERM stops everything.
    """
    from worker_runs.serve import ApiUnavailable, Server  # waitress, fakeredis: only here

    _configure_logging()
    try:
        server = Server(host=host, port=port, app_spec=app_spec, threads=threads)
        sys.exit(server.run())
    except ApiUnavailable as exc:
        raise click.ClickException(str(exc)) from None
