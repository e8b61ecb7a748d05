"""`worker-runs serve` on PostgreSQL and a real Redis survives both restarting (issue 12, item 2).

Real processes: `serve` (API, relay, kicker, a Celery worker child) against a throwaway schema
and a `redis-server` this test starts on a free port. Faults: every PostgreSQL backend of the
serve process tree is terminated (what a PostgreSQL restart does to its clients), twice;
then Redis is killed and started again on the same port while clients keep writing, then frozen
(SIGSTOP) for a few seconds. After
each fault: serve is still running with its worker, every write was answered and recorded,
and the read models catch up (commands sent = workers recorded = workers projected).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore.migrate import upgrade
from projections.consistency import wait_for_position
from projections.tables import rm_workers
from tests.broker import database_url
from tests.conftest import PG_URL, PostgresSchema
from tests.fault_support import Client, RedisServer
from tests.waiting import stop_process
from worker_runs.bootstrap import bootstrap
from worker_runs.ports import free_port, wait_for_http
from worker_runs.settings import Settings
from worker_runs.users import create_user_with_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def stack(pg_schema: PostgresSchema, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the fault tests")
    engine = pg_schema.engine()
    upgrade(engine)
    redis = RedisServer(tmp_path)
    redis.start()
    app_name = f"serve-{uuid.uuid4().hex[:10]}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env.update({
        "WORKER_RUNS_HOME": str(tmp_path), "WORKER_RUNS_DATABASE_URL": database_url(engine),
        "WORKER_RUNS_BROKER_URL": redis.url, "PGAPPNAME": app_name,  # libpq names every backend
    })
    log = (tmp_path / "serve.log").open("w+b")
    process = subprocess.Popen([sys.executable, "-m", "worker_runs.cli", "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    container = bootstrap(Settings(home=tmp_path, database_url=PG_URL), engine=engine)
    token = create_user_with_token(container.bus, "alice", "alice@example.org", label="t").token
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")

    def terminate() -> int:
        with admin.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": app_name}).scalar())

    def output() -> str:
        log.flush()
        return (tmp_path / "serve.log").read_text(errors="replace")

    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/livez", process=process, what="serve", diagnostics=output)
    try:
        yield {"client": Client(base, token), "engine": engine, "terminate": terminate, "redis": redis,
               "process": process, "output": output, "base": base}
    finally:
        stop_process(process, 60)
        log.close()
        redis.kill()
        admin.dispose()
        engine.dispose()


def _create_workers(client: Client, count: int, prefix: str) -> int:
    """Create `count` workers, retrying a 503 (the only acceptable answer to an outage);
    returns the last event position."""
    position = 0
    for i in range(count):
        slug = f"{prefix}-{i}"
        for _ in range(60):
            status, headers, body = client.call("POST", "/api/v1/workers/",
                                                {"name": slug, "slug": slug, "type": "ocr"})
            if status != 503:
                break
            assert "retry-after" in headers
            time.sleep(0.5)
        assert status == 201, (status, body)
        position = max(position, int(headers["x-event-position"]))
    return position


def _projected(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(rm_workers)).scalar() or 0)


def test_serve_survives_postgres_and_redis_restarts(stack: dict[str, Any]) -> None:
    client, engine, output = stack["client"], stack["engine"], stack["output"]
    sent = 0
    position = _create_workers(client, 3, "before")
    sent += 3
    assert wait_for_position(engine, position, timeout=30), output()

    for round_ in range(2):  # PostgreSQL "restarts": every backend of serve and its worker dies
        assert stack["terminate"]() >= 1
        position = _create_workers(client, 3, f"pg{round_}")
        sent += 3
        assert wait_for_position(engine, position, timeout=30), f"projections froze:\n{output()}"
        assert stack["process"].poll() is None, output()

    redis = stack["redis"]  # Redis goes away for a while; clients keep writing
    redis.kill()
    position = _create_workers(client, 3, "redis-down")
    sent += 3
    time.sleep(2)
    redis.start()
    assert wait_for_position(engine, position, timeout=60), f"projections froze after Redis:\n{output()}"

    assert redis.process is not None  # Redis freezes (SIGSTOP: connections hang, nothing closes them)
    redis.process.send_signal(signal.SIGSTOP)
    try:
        position = _create_workers(client, 3, "redis-frozen")  # writes never need the broker
        sent += 3
        time.sleep(3)
    finally:
        redis.process.send_signal(signal.SIGCONT)
    assert wait_for_position(engine, position, timeout=90), \
        f"projections froze after a Redis freeze:\n{output()}"

    assert stack["process"].poll() is None, output()
    assert _projected(engine) == sent
    status, _, ready = client.call("GET", "/readyz")
    assert status == 200 and ready["database"] == "ok", ready
    assert "stopped unexpectedly" not in output()
