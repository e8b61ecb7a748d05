"""Long-lived loops survive the database going away (issue 12, item 2).

A real fault: every PostgreSQL backend of the loop's engine is terminated with
`pg_terminate_backend` (what a restart or a failover does to a client), several times. The
relay must reconnect, take its advisory lock again and keep announcing; the webhook kicker
(run by the relay) must keep kicking; a live stream must stay open and deliver the events appended after.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain.actor import Actor
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from integrations.kicker import WebhookKicker
from integrations.live import EventStream, StreamOptions
from projections.registry import PROJECTIONS
from projections.relay import Relay
from tests.conftest import PG_URL, PostgresSchema
from tests.projection_workload import Workload
from tests.waiting import running
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.settings import Settings

pytestmark = pytest.mark.postgres


class AppEngine:
    """An engine on the test schema whose backends carry a unique application_name, so the
    test can terminate exactly them (other tests share the server)."""

    def __init__(self, schema: PostgresSchema) -> None:
        self.name = f"fault-{uuid.uuid4().hex[:10]}"
        self.engine = make_engine(PG_URL, connect_args={
            "options": f"-csearch_path={schema.name}", "application_name": self.name,
        })
        self._admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")

    def backends(self) -> int:
        with self._admin.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": self.name}).scalar())

    def terminate(self) -> int:
        """Kill every backend of this engine, as a PostgreSQL restart does."""
        with self._admin.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": self.name}).scalar())

    def holds_lock(self) -> bool:
        with self._admin.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = :n"),
                {"n": self.name}).scalar())

    def dispose(self) -> None:
        self.engine.dispose()
        self._admin.dispose()


@pytest.fixture
def faulty(pg_schema: PostgresSchema, tmp_path: Path) -> Iterator[tuple[AppEngine, Container]]:
    app = AppEngine(pg_schema)
    upgrade(app.engine)
    # The commands go through their own engine: only the loop under test loses its connections.
    writer_engine = pg_schema.engine()
    container = bootstrap(Settings(home=tmp_path, database_url=PG_URL), engine=writer_engine)
    yield app, container
    writer_engine.dispose()
    app.dispose()


class Recorder:
    def __init__(self) -> None:
        self.targets: dict[str, int] = {}
        self.lock = threading.Lock()

    def publish(self, name: str, target: int) -> None:
        with self.lock:
            self.targets[name] = max(self.targets.get(name, 0), target)

    def reached(self, head: int) -> bool:
        with self.lock:
            return len(self.targets) == len(PROJECTIONS) and min(self.targets.values()) >= head


def _eventually(predicate: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_relay_reconnects_and_retakes_its_lock_after_its_backends_are_killed(
    faulty: tuple[AppEngine, Container],
) -> None:
    app, container = faulty
    recorder = Recorder()
    relay = Relay(app.engine, recorder, sorted(PROJECTIONS), poll_interval=0.2)
    workload = Workload(container.bus, seed=12)
    with running(relay.run, timeout=15, name="relay-under-test") as thread:
        assert _eventually(app.holds_lock)
        for round_ in range(4):
            workload.random_command()
            head = container.store.head()
            assert _eventually(lambda h=head: recorder.reached(h)), f"round {round_}: not announced"
            assert app.terminate() >= 1
            # Appended while the relay has no connection: announced once it is back.
            for _ in range(3):
                workload.random_command()
            head = container.store.head()
            assert _eventually(lambda h=head: recorder.reached(h)), f"round {round_}: not after the fault"
            assert thread.is_alive(), "the relay died with its connection"
            assert _eventually(app.holds_lock), "the relay did not take its lock again"


def test_webhook_kicker_keeps_running_after_its_backends_are_killed(
    faulty: tuple[AppEngine, Container],
) -> None:
    app, _container = faulty
    kicker = WebhookKicker(app.engine, lambda _id: None, poll_interval=0.05)
    steps = []
    original = kicker.step

    def counted(head: int | None = None) -> list[str]:
        result = original(head)
        steps.append(time.monotonic())
        return result

    kicker.step = counted  # type: ignore[method-assign]
    relay = Relay(app.engine, Recorder(), [], poll_interval=0.05, kickers=[kicker])
    with running(relay.run, timeout=15, name="kicker-under-test") as thread:
        for _ in range(3):
            assert _eventually(lambda: len(steps) > 0)
            app.terminate()
            before = len(steps)
            assert _eventually(lambda b=before: len(steps) > b + 3), "the kicker stopped stepping"
        assert thread.is_alive()


def test_live_stream_stays_open_across_a_database_outage(faulty: tuple[AppEngine, Container]) -> None:
    app, container = faulty
    workload = Workload(container.bus, seed=13)
    workload.random_command()
    admin = Actor("an-admin", is_admin=True)  # sees every public event
    stream = EventStream(app.engine, admin, after=container.store.head(), types=None,
                         options=StreamOptions(poll_interval=0.05, heartbeat=30, retry_ms=1000,
                                               max_seconds=60))
    frames: list[bytes] = []
    reader = threading.Thread(target=lambda: frames.extend(stream), name="sse-reader", daemon=True)
    reader.start()
    try:
        assert _eventually(lambda: len(frames) >= 1)
        app.terminate()
        # Writes after the outage: the same stream delivers them.
        for _ in range(3):
            workload.random_command()
        assert _eventually(lambda: any(b"id: " in f for f in frames)), frames
        assert reader.is_alive(), "the stream ended with the database connection"
    finally:
        stream.close()
        reader.join(10)


def test_postgres_connections_use_tcp_keepalives(pg_engine: sa.Engine) -> None:
    """A server that vanished silently (network cut) is noticed in about a minute."""
    with pg_engine.connect() as conn:
        parameters = conn.connection.driver_connection.info.get_parameters()  # type: ignore[union-attr]
    assert parameters["keepalives"] == "1" and parameters["keepalives_idle"] == "30"
