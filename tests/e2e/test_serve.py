"""`worker-runs serve` as a real subprocess: it comes up with no external service (SQLite,
embedded broker, relay, a real Celery worker, the HTTP API), builds the read models, and
stops cleanly (exit 0, no process left behind) on SIGINT or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from commands import messages as m
from domain.actor import Actor
from eventstore.engine import make_engine
from projections.consistency import wait_for_position
from projections.tables import rm_user_runs
from worker_runs.bootstrap import bootstrap
from worker_runs.ports import free_port
from worker_runs.settings import Settings

STARTUP_TIMEOUT = 60


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env["WORKER_RUNS_HOME"] = str(home)
    return env


class Served:
    def __init__(self, home: Path, extra_args: list[str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.log = (home / "serve.log").open("w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker_runs.cli", "serve", "--port", str(self.port), *(extra_args or [])],
            env=_environment(home), stdout=self.log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (self.home / "serve.log").read_text(errors="replace")

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early:\n{self.output()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/livez", timeout=2) as response:
                    if response.status == 200 and _children(self.process.pid):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not come up in {STARTUP_TIMEOUT}s:\n{self.output()}")

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(60)
        finally:
            self.log.close()


    def terminate(self) -> None:
        """Leave nothing running (a failed test included)."""
        if self.process.poll() is None:
            for pid in _children(self.process.pid):
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    yield server
    server.terminate()


def _create_a_run(home: Path) -> tuple[str, int]:
    """Through the command bus, on the database serve uses (its default under the home)."""
    container = bootstrap(Settings(home=home, database_url=f"sqlite:///{home / 'worker-runs.db'}"))
    bus = container.bus
    user = Actor(bus.handle(m.RegisterUser("alice", "alice@example.org")).data["user_id"])
    worker_id = bus.handle(m.CreateWorker(name="OCR", slug="ocr", type="ocr"), actor=user).data["worker_id"]
    version_id = bus.handle(m.CreateWorkerVersion(worker_id, {}), actor=user).data["version_id"]
    result = bus.handle(m.CreateUserRun(version_id), actor=user)
    container.engine.dispose()
    return result.data["run_id"], result.position or 0


def _run_is_listed(home: Path, run_id: str, position: int) -> bool:
    engine = make_engine(f"sqlite:///{home / 'worker-runs.db'}")
    try:
        if not wait_for_position(engine, position, names=["user_runs"], timeout=30):
            return False
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(rm_user_runs)
                                .where(rm_user_runs.c.run_id == run_id)).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_runs_everything_and_stops_cleanly(served: Served, sig: signal.Signals) -> None:
    served.wait_until_up()
    children = _children(served.process.pid)
    assert children, "no Celery worker child"
    run_id, position = _create_a_run(served.home)
    assert _run_is_listed(served.home, run_id, position), served.output()

    assert served.stop(sig) == 0, served.output()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], "orphan processes left behind"
    output = served.output()
    assert "serving on http://127.0.0.1:" in output and "serve: stopped" in output
    assert "Celery worker stopped (exit code 0)" in output
    assert "Traceback" not in output and "Fatal Python error" not in output


def test_a_killed_serve_leaves_no_orphan_worker(served: Served) -> None:
    served.wait_until_up()
    children = _children(served.process.pid)
    served.process.kill()  # no chance to clean up: the worker must notice by itself
    served.process.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)], "the Celery worker outlived its parent"
