"""Crash test on PostgreSQL + the real Redis: 3000 commands while the Celery worker and the
relay (real subprocesses: `celery -A tasks.app worker` and `worker-runs relay`) are killed
with SIGKILL several times and restarted. Afterwards every read model equals a rebuild from
zero: nothing lost (at-least-once delivery + the relay's catch-up), nothing doubled (rows
and checkpoint in one transaction)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from projections.consistency import wait_for_position
from projections.registry import PROJECTIONS
from projections.status import projection_statuses
from tests.broker import REDIS_URL, database_url, drop_prefix
from tests.projection_workload import Workload, snapshot
from worker_runs.bootstrap import bootstrap
from worker_runs.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

COMMANDS = 3000
WRITERS = 3
KILLS_EACH = 3


class Supervised:
    """A subprocess in its own process group, so SIGKILL takes its children (prefork) too."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env = name, command, env
        self.log = log.open("ab")
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def test_killing_worker_and_relay_loses_and_doubles_nothing(pg_engine: Engine, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env.update({
        "WORKER_RUNS_HOME": str(tmp_path),
        "WORKER_RUNS_DATABASE_URL": database_url(pg_engine),
        "WORKER_RUNS_BROKER_URL": REDIS_URL,
        "WORKER_RUNS_CELERY_QUEUE": f"crash-{tag}",
        "WORKER_RUNS_BROKER_PREFIX": f"crash-{tag}:",
    })
    log = tmp_path / "processes.log"
    celery = [sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool=prefork",
              "--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle"]
    worker = Supervised("worker", celery, env, log)
    relay = Supervised("relay", [sys.executable, "-m", "worker_runs.cli", "relay"], env, log)
    settings = Settings(home=tmp_path, database_url=env["WORKER_RUNS_DATABASE_URL"])
    container = bootstrap(settings, engine=pg_engine)
    chaos_over = threading.Event()
    errors: list[BaseException] = []
    workloads = [Workload(container.bus, seed=100 + i) for i in range(WRITERS)]

    def write(workload: Workload) -> None:
        # Keep writing until the chaos is over too: every kill must land while commands arrive,
        # however fast this machine writes its quota.
        try:
            while workload.commands < COMMANDS // WRITERS or not chaos_over.is_set():
                workload.random_command()
        except BaseException as exc:  # reported below
            errors.append(exc)

    def chaos() -> None:
        # Alternate: kill the worker (mid-task, prefork children included), then the relay,
        # each restarted after a short outage, until both died KILLS_EACH times.
        try:
            for victim in [worker, relay] * KILLS_EACH:
                time.sleep(1.5)
                victim.kill()
                time.sleep(0.4)
                victim.start()
        except BaseException as exc:
            errors.append(exc)
        finally:
            chaos_over.set()

    worker.start()
    relay.start()
    try:
        writers = [threading.Thread(target=write, args=(w,)) for w in workloads]
        chaos_thread = threading.Thread(target=chaos)
        for t in [*writers, chaos_thread]:
            t.start()
        chaos_thread.join()
        for t in writers:
            t.join()
        assert errors == []
        assert worker.kills == KILLS_EACH and relay.kills == KILLS_EACH
        head = container.store.head()
        assert sum(w.commands for w in workloads) >= COMMANDS
        assert wait_for_position(container.engine, head, timeout=60), projection_statuses(container.engine)
    finally:
        worker.stop()
        relay.stop()
        drop_prefix(REDIS_URL, env["WORKER_RUNS_BROKER_PREFIX"])

    for status in projection_statuses(container.engine):
        assert status.parked == 0 and status.failing == 0 and status.lag_events == 0, status
    for name in PROJECTIONS:
        scratch = 77
        container.runner.catch_up(name, generation=scratch)
        assert snapshot(container.engine, name) == snapshot(container.engine, name, scratch), name
    runs = snapshot(container.engine, "user_runs")["rm_user_runs"]
    assert len(runs) == sum(len(w.runs) for w in workloads)
