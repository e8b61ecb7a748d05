"""The bench's machinery: a throwaway PostgreSQL database per run, the bench container built by
the composition root, writer threads released together, and interleaved repetitions."""

from __future__ import annotations

import math
import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from eventstore.migrate import upgrade
from worker_runs.bench.report import Baseline
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.settings import Settings

if TYPE_CHECKING:  # psycopg is the `postgres` extra: `worker-runs --help` must not need it
    import psycopg

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
SCALES = ("small", "full")


class Unavailable(Exception):
    """A baseline that cannot be measured on this machine (a missing package): reported with
    its message (which says why) instead of a value, never a crash."""


@contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """CREATE DATABASE bench_<random> on the server of `url`, yield its URL, drop it after: the
    bench never writes to the database it was given."""
    base = sa.make_url(url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                # FORCE: a connection the bench leaked (a baseline's pool) must not keep it.
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def libpq_conninfo(url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string, for the raw psycopg baselines."""
    u = sa.make_url(url)
    parts = {"host": u.host, "port": u.port, "dbname": u.database, "user": u.username,
             "password": u.password}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)


@dataclass
class BenchContext:
    """What every scenario gets: the scale, the repetitions and the databases to use."""

    scale: str
    repetitions: int
    #: the run's own PostgreSQL database (None when only SQLite scenarios run)
    database_url: str | None
    #: the Redis of the scenarios that run the read side as deployed (`lag`)
    broker_url: str = DEFAULT_BROKER_URL
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="worker-runs-bench-")))
    _containers: list[Container] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return self.scale == "full"

    def pick(self, small: int, full: int) -> int:
        return full if self.full else small

    def postgres_url(self) -> str:
        if self.database_url is None:
            raise RuntimeError("this scenario needs PostgreSQL")
        return self.database_url

    def conninfo(self) -> str:
        return libpq_conninfo(self.postgres_url())

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(self.conninfo(), **kwargs)

    def container(self, database_url: str | None = None) -> Container:
        """A container built by the composition root (the real code path) on a migrated
        database: the run's PostgreSQL database unless another URL is given."""
        url = database_url or self.postgres_url()
        home = self.home / f"home-{len(self._containers)}"
        home.mkdir(parents=True, exist_ok=True)
        # A fixed key: the web UI's key file would otherwise be generated (and warned about).
        container = bootstrap(Settings(home=home, database_url=url, secret_key=uuid.uuid4().hex))
        upgrade(container.engine)
        self._containers.append(container)
        return container

    def environment(self, **settings: object) -> dict[str, str]:
        """The environment of a child `worker-runs`/Celery process on the run's database: this
        process's environment without its WORKER_RUNS_* variables, plus `settings` (names of
        worker_runs.settings.Settings fields, spelled as their variables)."""
        names = {"broker_url": "BROKER_URL", "celery_queue": "CELERY_QUEUE", "broker_prefix": "BROKER_PREFIX",
                 "webhook_allow_private": "WEBHOOK_ALLOW_PRIVATE"}
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
        env.update({"WORKER_RUNS_HOME": str(self.home), "WORKER_RUNS_DATABASE_URL": self.postgres_url(),
                    "WORKER_RUNS_SECRET_KEY": uuid.uuid4().hex})
        for name, value in settings.items():
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            env[f"WORKER_RUNS_{names[name]}"] = text
        return env

    def close(self) -> None:
        for container in self._containers:
            container.engine.dispose()
        self._containers.clear()
        shutil.rmtree(self.home, ignore_errors=True)


def run_writers(writers: int, per_writer: int, work: Callable[[int, int], object]) -> float:
    """Run work(writer, i) for i < per_writer in `writers` threads released together; the
    elapsed seconds. A failure in any thread is raised: a failed run prints no numbers."""
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        barrier.wait()
        try:
            for i in range(per_writer):
                work(index, i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(w,), daemon=True) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


@dataclass(frozen=True)
class Measured:
    """The medians of interleaved cases; a case that could not run has a reason instead."""

    medians: dict[str, float | None]
    reasons: dict[str, str]

    def __getitem__(self, name: str) -> float:
        value = self.medians[name]
        if value is None:
            raise RuntimeError(f"{name} was not measured: {self.reasons.get(name)}")
        return value

    def baseline(self, name: str, label: str | None = None) -> Baseline:
        return Baseline(label or name, self.medians[name], self.reasons.get(name, ""))


def interleave(repetitions: int, cases: Mapping[str, Callable[[], float]]) -> Measured:
    """Run each case once per repetition, alternating cases (the starting case rotates, so no
    case always runs on a cold or a warm server), and keep each case's median. A case raising
    Unavailable is reported with its reason and not run again."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    reasons: dict[str, str] = {}
    names = list(cases)
    for rep in range(repetitions):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            if name in reasons:
                continue
            try:
                samples[name].append(cases[name]())
            except Unavailable as exc:
                reasons[name] = str(exc)
    medians = {name: (statistics.median(values) if values else None) for name, values in samples.items()}
    return Measured(medians, reasons)


def timings_ms(count: int, work: Callable[[], object]) -> list[float]:
    """How long each of `count` calls of `work`, one after another, took in milliseconds."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def median_ms(count: int, work: Callable[[], object]) -> float:
    return statistics.median(timings_ms(count, work))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the 99th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]
