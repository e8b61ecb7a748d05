"""Projection lag and rebuild speed, with the production shape of the read side.

Runs in a fresh schema of the given PostgreSQL database (dropped afterwards) with its own
Redis queue and key prefix. Starts `worker-runs relay` and `celery -A tasks.app worker` as
subprocesses, then:

1. **Lag**: issues `CreateUserRun` commands at a steady rate (`--rate` per second for
   `--seconds`) from one writer thread, while an observer polls the listing table
   (`rm_user_runs`, live generation) every millisecond. Lag = time from the command's return
   (its events committed) to the run being visible in the table. Reports p50/p95/p99/max.
2. **Rebuild**: appends `--rebuild-events` more events (realistic payloads: workers,
   versions, user worker runs, in 100-event transactions), then rebuilds every projection
   from zero in-process (`ProjectionRunner.rebuild`) and reports events per second.

    python benchmarks/projection_lag.py --help
    python benchmarks/projection_lag.py --rate 50 --seconds 20 --rebuild-events 50000
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

# Runnable as a plain script from a checkout: make the repository's packages importable.
# Run as a script (`python benchmarks/...`): the repository root, for the tests/ helpers and an
# uninstalled checkout, must be importable before the project imports below (hence E402).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands import messages as m  # noqa: E402
from domain.actor import Actor  # noqa: E402
from domain.local_process import local_process_id, local_process_stream  # noqa: E402
from eventstore import Metadata, NewEvent, StreamAppend  # noqa: E402
from eventstore.engine import make_engine  # noqa: E402
from eventstore.migrate import upgrade  # noqa: E402
from projections.consistency import wait_for_position  # noqa: E402
from projections.generations import live_generation  # noqa: E402
from projections.tables import rm_user_runs  # noqa: E402
from worker_runs.bootstrap import Container, bootstrap  # noqa: E402
from worker_runs.settings import Settings  # noqa: E402

DEFAULT_URL = os.environ.get(
    "WORKER_RUNS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Processes:
    """The relay and the Celery worker, as in production (each in its own process group)."""

    def __init__(self, env: dict[str, str], concurrency: int, log: Path) -> None:
        self.log = log.open("wb")
        common: dict[str, Any] = {"env": env, "stdout": self.log, "stderr": subprocess.STDOUT,
                                  "start_new_session": True}
        self.procs = [
            subprocess.Popen([sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool=prefork",
                              f"--concurrency={concurrency}", "--loglevel=WARNING", "--without-gossip",
                              "--without-mingle"], **common),
            subprocess.Popen([sys.executable, "-m", "worker_runs.cli", "relay"], **common),
        ]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.log.close()


def prepare_versions(container: Container, count: int, users: int) -> list[tuple[Actor, str]]:
    """(user, version id) pairs for `count` runs: a run needs a version of its own."""
    bus = container.bus
    owner = Actor(bus.handle(m.RegisterUser(f"owner-{uuid.uuid4().hex[:8]}")).data["user_id"])
    people = [Actor(bus.handle(m.RegisterUser(f"user-{uuid.uuid4().hex[:8]}")).data["user_id"])
              for _ in range(users)]
    pairs: list[tuple[Actor, str]] = []
    worker_id = ""
    for i in range(count):
        if i % 50 == 0:  # keep each worker stream short
            slug = f"w-{uuid.uuid4().hex[:8]}"
            created = bus.handle(m.CreateWorker(name=slug, slug=slug, type="ocr"), actor=owner)
            worker_id = created.data["worker_id"]
            for person in people:
                bus.handle(m.GrantWorkerAccess(worker_id, person.user_id), actor=owner)
        version_id = bus.handle(m.CreateWorkerVersion(worker_id, {}), actor=owner).data["version_id"]
        pairs.append((people[i % users], version_id))
    return pairs


def measure_lag(container: Container, pairs: list[tuple[Actor, str]], rate: float) -> dict[str, Any]:
    committed: dict[str, float] = {}
    visible: dict[str, float] = {}
    command_seconds: list[float] = []
    stop = threading.Event()

    def observe() -> None:
        seen = 0
        with container.engine.connect() as conn:
            generation = live_generation(conn, "user_runs")
        while not stop.is_set() or len(visible) < len(committed):
            with container.engine.connect() as conn:
                rows = conn.execute(sa.select(rm_user_runs.c.run_id, rm_user_runs.c.created_position).where(
                    rm_user_runs.c.generation == generation, rm_user_runs.c.created_position > seen,
                )).all()
            now = time.monotonic()
            for run_id, position in rows:
                visible.setdefault(run_id, now)
                seen = max(seen, position)
            time.sleep(0.001)

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    interval = 1.0 / rate
    started = time.monotonic()
    for i, (user, version_id) in enumerate(pairs):
        # Open loop: each command starts on its schedule, whatever the previous one took.
        delay = started + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t0 = time.monotonic()
        result = container.bus.handle(m.CreateUserRun(version_id), actor=user)
        t1 = time.monotonic()
        command_seconds.append(t1 - t0)
        committed[result.data["run_id"]] = t1
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 60
    while len(visible) < len(committed) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    observer.join(5)
    lags = [visible[run] - at for run, at in committed.items() if run in visible]
    ms = [x * 1000 for x in lags]
    return {
        "commands": len(committed), "achieved_rate": round(len(committed) / elapsed, 1),
        "missing": len(committed) - len(lags),
        "lag_ms": {"p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1),
                   "p99": round(percentile(ms, 99), 1), "max": round(max(ms), 1),
                   "mean": round(statistics.fmean(ms), 1)},
        "command_ms_p50": round(percentile([x * 1000 for x in command_seconds], 50), 1),
    }


def append_synthetic(container: Container, events: int) -> None:
    """Realistic events, appended directly (100 per transaction): workers with versions, and
    users' local processes with runs, in the shapes the projectors read."""
    store = container.store
    md = Metadata(actor_type="system", actor_id="system", correlation_id="bench", causation_id="bench",
                  occurred_at=datetime.now(UTC))
    written = 0
    while written < events:
        owner = str(uuid.uuid4())
        worker_id = str(uuid.uuid4())
        versions = [str(uuid.uuid4()) for _ in range(49)]
        worker_events = [NewEvent("WorkerCreated", {
            "worker_id": worker_id, "name": f"Worker {worker_id[:8]}", "slug": worker_id, "type": "ocr",
            "owner_id": owner, "description": "", "repository_url": None,
        })] + [NewEvent("WorkerVersionCreated", {
            "worker_id": worker_id, "version_id": v, "number": n + 1, "configuration": {"beam": 4},
            "docker_image_iid": None, "revision_url": None, "gpu_usage": "disabled",
            "model_usage": "disabled",
            "state": "available", "tag": None, "branch": None,
        }) for n, v in enumerate(versions)]
        run_events = [NewEvent("UserWorkerRunCreated", {
            "process_id": local_process_id(owner), "user_id": owner, "run_id": str(uuid.uuid4()),
            "worker_id": worker_id, "worker_version_id": v, "summary": "Worker @ version",
            "configuration_id": None, "model_version_id": None,
        }) for v in versions] + [NewEvent("UserWorkerRunCreated", {
            "process_id": local_process_id(owner), "user_id": owner, "run_id": str(uuid.uuid4()),
            "worker_id": worker_id, "worker_version_id": str(uuid.uuid4()), "summary": "Worker @ version",
            "configuration_id": None, "model_version_id": None,
        })]
        store.append([StreamAppend(f"worker-{worker_id}", 0, worker_events)], metadata=md)
        store.append([StreamAppend(local_process_stream(owner), 0, run_events)], metadata=md)
        written += len(worker_events) + len(run_events)


def measure_rebuild(container: Container) -> dict[str, Any]:
    results = {}
    for name in container.runner.names:
        result = container.runner.rebuild(name, batch_size=2000)
        results[name] = {"events": result.events, "seconds": round(result.seconds, 2),
                         "events_per_s": round(result.events / result.seconds)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL (a fresh schema is used)")
    parser.add_argument("--broker", default=DEFAULT_BROKER, help="Redis URL")
    parser.add_argument("--rate", type=float, default=50.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the lag phase")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--users", type=int, default=20, help="users issuing the commands")
    parser.add_argument("--rebuild-events", type=int, default=50_000, help="events added before the rebuild")
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(args.url).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    tag = uuid.uuid4().hex[:10]
    home = Path(f"/tmp/worker-runs-bench-{tag}")
    home.mkdir(parents=True)
    settings = Settings(home=home, database_url=url_text, broker_url=args.broker,
                        celery_queue=f"bench-{tag}", broker_prefix=f"bench-{tag}:")
    engine = make_engine(url_text)
    container = bootstrap(replace(settings), engine=engine)
    upgrade(engine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env.update({"WORKER_RUNS_HOME": str(home), "WORKER_RUNS_DATABASE_URL": url_text,
                "WORKER_RUNS_BROKER_URL": args.broker, "WORKER_RUNS_CELERY_QUEUE": settings.celery_queue,
                "WORKER_RUNS_BROKER_PREFIX": settings.broker_prefix})
    processes = None
    try:
        count = int(args.rate * args.seconds)
        print(f"preparing {count} worker versions ...", file=sys.stderr)
        pairs = prepare_versions(container, count, args.users)
        processes = Processes(env, args.concurrency, home / "processes.log")
        assert wait_for_position(engine, container.store.head(), timeout=120), "projections never caught up"
        print(f"lag phase: {args.rate}/s for {args.seconds}s ...", file=sys.stderr)
        lag = measure_lag(container, pairs, args.rate)
        processes.stop()
        processes = None
        print(f"appending {args.rebuild_events} events ...", file=sys.stderr)
        append_synthetic(container, args.rebuild_events)
        total = container.store.head()
        print(f"rebuilding every projection over {total} events ...", file=sys.stderr)
        rebuild = measure_rebuild(container)
        report = {"database": "postgresql", "broker": args.broker.split("@")[-1], "lag": lag,
                  "rebuild": {"log_events": total, "projections": rebuild}}
        print(json.dumps(report, indent=2))
    finally:
        if processes is not None:
            processes.stop()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        client = redis.Redis.from_url(args.broker)
        keys = list(client.scan_iter(match=f"{settings.broker_prefix}*"))
        if keys:
            client.delete(*keys)


if __name__ == "__main__":
    main()
