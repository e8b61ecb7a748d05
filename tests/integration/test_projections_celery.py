"""The Celery path with a real worker (never `task_always_eager`): relay -> broker -> worker
-> read models, over a fakeredis TCP server, and once over the real Redis."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from commands.messages import GrantWorkerAccess
from domain.actor import Actor
from projections.consistency import wait_for_position
from projections.generations import live_generation
from projections.registry import PROJECTIONS
from projections.tables import rm_user_runs
from tasks.projections import RUN_PROJECTION
from tests.broker import REDIS_URL, broker_container, drop_prefix, real_worker, running_relay
from tests.projection_workload import Workload, snapshot
from worker_runs.bootstrap import Container

NAMES = sorted(PROJECTIONS)


def assert_equals_a_rebuild(container: Container) -> None:
    for name in NAMES:
        scratch = 900
        container.runner.catch_up(name, generation=scratch)
        assert snapshot(container.engine, name) == snapshot(container.engine, name, scratch), name


def test_relay_and_real_worker_build_the_read_models(
    engine: Engine, tmp_path: Path, fake_broker: str,
) -> None:
    container = broker_container(engine, tmp_path, fake_broker)
    workload = Workload(container.bus, seed=21)
    with real_worker(container), running_relay(container):
        for _ in range(150):
            workload.random_command()
        head = container.store.head()
        assert wait_for_position(container.engine, head, timeout=30)
    assert_equals_a_rebuild(container)
    assert len(snapshot(container.engine, "user_runs")["rm_user_runs"]) == len(workload.runs)


def test_duplicated_and_shuffled_task_messages(engine: Engine, tmp_path: Path, fake_broker: str) -> None:
    """Every message three times, targets out of order, no relay: the effect is still exactly once."""
    container = broker_container(engine, tmp_path, fake_broker)
    workload = Workload(container.bus, seed=22)
    targets = []
    for _ in range(60):
        targets.append(workload.random_command())
    messages = [(name, target) for name in NAMES for target in targets] * 3
    random.Random(1).shuffle(messages)
    for name, target in messages:
        container.celery.send_task(RUN_PROJECTION, args=[name, target])
    with real_worker(container):
        assert wait_for_position(container.engine, container.store.head(), timeout=60)
    assert_equals_a_rebuild(container)


def user_runs_of(engine: Engine, user: Actor) -> set[str]:
    with engine.connect() as conn:
        generation = live_generation(conn, "user_runs")
        return set(conn.execute(sa.select(rm_user_runs.c.run_id).where(
            rm_user_runs.c.user_id == user.user_id, rm_user_runs.c.generation == generation,
        )).scalars())


@pytest.mark.postgres
def test_read_your_write_1000_times(pg_engine: Engine, tmp_path: Path, fake_broker: str) -> None:
    """Create a run, wait for the position the command returned, list the user's runs:
    the run is there, every time. Through the relay (NOTIFY) and a real worker."""
    container = broker_container(pg_engine, tmp_path, fake_broker)
    workload = Workload(container.bus, seed=23)
    # Several users and workers, so that no aggregate stream grows to a thousand events
    # (loading them would dominate the time of this test).
    users = [workload.user() for _ in range(10)]
    latencies = []
    with real_worker(container), running_relay(container):
        for i in range(1000):
            user = users[i % len(users)]
            if i % 50 == 0:
                worker_id = workload.worker(users[0])
                for other in users[1:]:
                    container.bus.handle(GrantWorkerAccess(worker_id, other.user_id), actor=users[0])
            version_id, _ = workload.version(users[0], worker_id)
            started = time.monotonic()
            run_id, position = workload.run(user, version_id)
            assert wait_for_position(container.engine, position, names=["user_runs"], timeout=10)
            assert run_id in user_runs_of(container.engine, user)
            latencies.append(time.monotonic() - started)
    latencies.sort()
    # Not a benchmark (`worker-runs bench lag` is): a guard against a relay that
    # stopped listening and fell back to its poll.
    assert latencies[len(latencies) // 2] < 0.5, latencies[len(latencies) // 2]


@pytest.mark.redis
def test_relay_and_real_worker_over_the_real_redis(engine: Engine, tmp_path: Path) -> None:
    container = broker_container(engine, tmp_path, REDIS_URL)
    try:
        workload = Workload(container.bus, seed=24)
        with real_worker(container), running_relay(container):
            for _ in range(100):
                workload.random_command()
            assert wait_for_position(container.engine, container.store.head(), timeout=30)
        assert_equals_a_rebuild(container)
    finally:
        drop_prefix(REDIS_URL, container.settings.broker_prefix)
