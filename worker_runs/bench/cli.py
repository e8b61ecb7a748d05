"""The `worker-runs bench` command."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click
import sqlalchemy as sa

from worker_runs.bench import EMBEDDED_ONLY, SCENARIOS
from worker_runs.bench.report import Environment, Figure, print_report, write_json
from worker_runs.bench.runner import (
    DEFAULT_BROKER_URL,
    DEFAULT_DATABASE_URL,
    SCALES,
    BenchContext,
    throwaway_database,
)


def _postgres_facts(url: str) -> tuple[str, dict[str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            version = str(conn.exec_driver_sql("SHOW server_version").scalar())
            settings = {name: str(conn.exec_driver_sql(f"SHOW {name}").scalar())
                        for name in ("fsync", "synchronous_commit", "shared_buffers")}
    finally:
        engine.dispose()
    return version, settings


@click.command("bench")
@click.argument("scenarios", nargs=-1, type=click.Choice(list(SCENARIOS)))
@click.option("--scale", type=click.Choice(SCALES), default="small", show_default=True,
              help="small: a smoke run of seconds (CI); full: the sizes of issue 11, for measuring.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every figure, baseline and ratio to this JSON file.")
@click.option("--database-url", default=None,
              help="A PostgreSQL server to measure on (default: WORKER_RUNS_DATABASE_URL, else "
                   f"{DEFAULT_DATABASE_URL}). The bench creates its own database there and drops it.")
@click.option("--broker-url", default=None,
              help="The Redis of the lag scenario (default: WORKER_RUNS_BROKER_URL, else "
                   f"{DEFAULT_BROKER_URL}); it uses its own queue and key prefix and deletes its keys.")
@click.option("--repetitions", default=3, show_default=True, type=click.IntRange(min=1),
              help="Interleaved repetitions of each case; medians are reported.")
def bench(scenarios: tuple[str, ...], scale: str, json_file: Path | None, database_url: str | None,
          broker_url: str | None, repetitions: int) -> None:
    """Measure SCENARIOS (default: all) beside their baselines, in the same run.

    Every figure is printed with its baseline(s), measured interleaved with it, and the ratio
    ours / baseline. User data is never touched: each PostgreSQL scenario runs in a database
    bench_<random> created for it and dropped after it; `lag` and `http` use a Redis queue and
    key prefix of their own, deleted after.
    """
    chosen = list(scenarios) or list(SCENARIOS)
    broker = broker_url or os.environ.get("WORKER_RUNS_BROKER_URL") or DEFAULT_BROKER_URL
    url = database_url or os.environ.get("WORKER_RUNS_DATABASE_URL") or DEFAULT_DATABASE_URL
    needs_postgres = any(name not in EMBEDDED_ONLY for name in chosen)
    if needs_postgres and not url.startswith("postgresql"):
        raise click.UsageError(
            f"scenarios {', '.join(n for n in chosen if n not in EMBEDDED_ONLY)} measure PostgreSQL: "
            "give --database-url postgresql+psycopg://...")
    version: str | None = None
    settings: dict[str, str] = {}
    if needs_postgres:
        try:
            version, settings = _postgres_facts(url)
        except sa.exc.OperationalError as exc:
            where = sa.make_url(url).render_as_string(hide_password=True)
            raise click.ClickException(f"Cannot reach PostgreSQL at {where}: {exc.orig}") from None
    environment = Environment.probe(scale=scale, repetitions=repetitions, postgresql=version,
                                    postgresql_settings=settings)
    figures: list[Figure] = []
    with _terminate_as_exit():
        for name in chosen:
            click.echo(f"running {name} ...", err=True)
            figures += _scenario(name, scale, repetitions, None if name in EMBEDDED_ONLY else url, broker)
    print_report(environment, figures)
    if json_file is not None:
        write_json(json_file, environment, figures)
        click.echo(f"\nWrote {json_file}")


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM (a `kill`, a CI timeout) unwinds like Ctrl-C, so the scenario's throwaway
    database, Redis keys and child processes are still cleaned up on the way out."""
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # signals are the main thread's (a bench run from a test's thread)
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _scenario(name: str, scale: str, repetitions: int, url: str | None, broker: str) -> list[Figure]:
    """One scenario, in a PostgreSQL database of its own (created, then dropped): no scenario
    measures on what another left behind."""
    with ExitStack() as stack:
        bench_url = stack.enter_context(throwaway_database(url)) if url is not None else None
        ctx = BenchContext(scale=scale, repetitions=repetitions, database_url=bench_url, broker_url=broker)
        stack.callback(ctx.close)
        figures = SCENARIOS[name](ctx)
    if bench_url is not None:
        database = sa.make_url(bench_url).database
        click.echo(f"(database {database} was created for {name} and dropped)", err=True)
    return figures
