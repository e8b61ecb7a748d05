"""`serve` outlives a real PostgreSQL restart (issue 12, item 2): a throwaway cluster this test
creates (`initdb`, `pg_ctl`, as the `postgres` system user), stopped for a few seconds and
started again while clients keep writing. During the outage the API answers 503 with
Retry-After (never 500); afterwards every write is recorded once and projected, and serve,
its relay and its worker are still running.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import sqlalchemy as sa

from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from projections.consistency import wait_for_position
from tests.e2e.test_faults_serve import _create_workers, _projected
from tests.fault_support import Client
from tests.waiting import stop_process
from worker_runs.bootstrap import bootstrap
from worker_runs.ports import free_port, wait_for_http
from worker_runs.settings import Settings
from worker_runs.users import create_user_with_token

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Cluster:
    """A PostgreSQL cluster in a temporary directory, owned by the `postgres` user."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.log = directory / "postgres.log"
        self._as_postgres: list[str] = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as_postgres, *argv], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o",
                  f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.fail("initdb and pg_ctl are needed for the PostgreSQL restart test")
    directory = Path("/tmp") / f"wr-pg-{os.getpid()}-{free_port()}"  # short: the socket path is bounded
    running = Cluster(directory)
    running.init()
    running.start()
    try:
        yield running
    finally:
        try:
            running.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(directory, ignore_errors=True)


def _serve(cluster: Cluster, home: Path) -> tuple[int, subprocess.Popen[bytes], BinaryIO]:
    """`worker-runs serve` on the cluster, logging to home/serve.log: its port, process and log."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env.update({"WORKER_RUNS_HOME": str(home), "WORKER_RUNS_DATABASE_URL": cluster.url})
    log = (home / "serve.log").open("w+b")
    process = subprocess.Popen([sys.executable, "-m", "worker_runs.cli", "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    return port, process, log


def test_serve_outlives_a_postgresql_restart(cluster: Cluster, tmp_path: Path) -> None:
    engine = make_engine(cluster.url)
    upgrade(engine)
    container = bootstrap(Settings(home=tmp_path, database_url=cluster.url), engine=engine)
    token = create_user_with_token(container.bus, "alice", "alice@example.org", label="t").token
    engine.dispose()

    port, process, log = _serve(cluster, tmp_path)

    def output() -> str:
        log.flush()
        return (tmp_path / "serve.log").read_text(errors="replace")

    base = f"http://127.0.0.1:{port}"
    client = Client(base, token)
    try:
        wait_for_http(base + "/livez", process=process, what="serve", diagnostics=output)
        sent = 3
        position = _create_workers(client, 3, "before")
        assert wait_for_position(engine, position, timeout=30), output()

        cluster.stop()
        down = {"name": "d", "slug": "d", "type": "ocr"}
        statuses: list[Any] = [client.call("POST", "/api/v1/workers/", down) for _ in range(3)]
        assert {status for status, _, _ in statuses} == {503}, statuses  # never a 500
        assert all("retry-after" in headers for _, headers, _ in statuses)
        time.sleep(3)
        cluster.start()

        position = _create_workers(client, 5, "after")  # retries its 503s until the pool reconnects
        sent += 5
        assert wait_for_position(engine, position, timeout=60), f"projections froze:\n{output()}"
        assert _projected(engine) == sent
        with engine.connect() as conn:
            recorded = conn.execute(
                sa.text("SELECT count(*) FROM events WHERE event_type = 'WorkerCreated'")).scalar()
        assert recorded == sent
        assert process.poll() is None, output()
        assert "stopped unexpectedly" not in output()
    finally:
        stop_process(process, 60)
        log.close()
        engine.dispose()


def test_serve_started_before_postgresql_waits_for_it(cluster: Cluster, tmp_path: Path) -> None:
    cluster.stop()  # serve comes up first, as in a compose file or after a host reboot
    port, process, log = _serve(cluster, tmp_path)
    try:
        time.sleep(3)
        assert process.poll() is None, "serve exited because the database was not up yet"
        cluster.start()
        wait_for_http(f"http://127.0.0.1:{port}/readyz", interval=0.3, process=process, what="serve",
                      diagnostics=lambda: (tmp_path / "serve.log").read_text(errors="replace"))
    finally:
        stop_process(process, 60)
        log.close()
