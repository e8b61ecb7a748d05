"""Rebuilds: generation N+1 beside the live one, switched in its last batch, old rows deleted."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from projections import bookkeeping as bk
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner
from projections.tables import projection_checkpoints, rm_user_runs
from tests.projection_workload import Workload, read_model_tables, row_count, snapshot
from worker_runs.bootstrap import Container

NAMES = sorted(PROJECTIONS)


def state(container: Container, name: str) -> tuple[int, int | None]:
    with container.engine.connect() as conn:
        return bk.get_state(conn, name)


def generations_present(container: Container, name: str) -> set[int]:
    found: set[int] = set()
    with container.engine.connect() as conn:
        for table_name in PROJECTIONS[name].tables:
            table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
            found |= set(conn.execute(sa.select(table.c.generation).distinct()).scalars())
    return found


def test_rebuild_switches_generation_and_deletes_the_old_rows(container: Container) -> None:
    w = Workload(container.bus, seed=1)
    for _ in range(120):
        w.random_command()
    for name in NAMES:
        container.runner.catch_up(name)
    before = {name: snapshot(container.engine, name) for name in NAMES}
    seen: list[tuple[int, int]] = []
    result = container.runner.rebuild("catalog", batch_size=40, progress=lambda c, h: seen.append((c, h)))
    assert (result.old_generation, result.generation) == (1, 2)
    assert result.checkpoint == container.store.head() and result.events == container.store.head()
    assert seen[-1] == (result.checkpoint, container.store.head()) and len(seen) >= 3
    assert [c for c, _ in seen] == sorted(c for c, _ in seen)
    assert state(container, "catalog") == (2, None)
    assert snapshot(container.engine, "catalog") == before["catalog"]
    assert generations_present(container, "catalog") == {2}
    # The other projection is untouched, and a second rebuild goes to generation 3.
    assert state(container, "user_runs") == (1, None)
    assert container.runner.rebuild("catalog").generation == 3
    with container.engine.connect() as conn:
        assert set(conn.execute(sa.select(projection_checkpoints.c.generation).where(
            projection_checkpoints.c.name == "catalog")).scalars()) == {3}


def test_the_live_generation_serves_while_a_rebuild_is_built(container: Container) -> None:
    w = Workload(container.bus, seed=2)
    for _ in range(80):
        w.random_command()
    container.runner.catch_up("user_runs")
    live_rows = row_count(container.engine, "rm_user_runs", 1)
    assert live_rows > 0
    live, building = container.runner.start_rebuild("user_runs")
    assert (live, building) == (1, 2)
    container.runner.run_batch("user_runs", generation=building, batch_size=5, switch_when_caught_up=True)
    # Half built: readers of the live generation see all of it, none of generation 2.
    assert state(container, "user_runs") == (1, 2)
    assert row_count(container.engine, "rm_user_runs", 1) == live_rows
    # New events still reach the live generation through the normal runner.
    run_id, _ = w.run()
    container.runner.catch_up("user_runs")
    with container.engine.connect() as conn:
        query = sa.select(rm_user_runs.c.generation).where(rm_user_runs.c.run_id == run_id)
        assert conn.execute(query).scalar() == 1
    # An interrupted rebuild resumes the same generation.
    assert container.runner.rebuild("user_runs").generation == 2
    assert state(container, "user_runs") == (2, None)
    assert row_count(container.engine, "rm_user_runs", 2) == live_rows + 1
    assert row_count(container.engine, "rm_user_runs") == live_rows + 1


def test_rebuild_while_commands_keep_arriving(container: Container) -> None:
    """Writers and a live runner keep going during the rebuild; after the switch the new
    generation is complete and equals one built from zero at the end."""
    w = Workload(container.bus, seed=3)
    for _ in range(150):
        w.random_command()
    for name in NAMES:
        container.runner.catch_up(name)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            writer = Workload(container.bus, seed=4)
            while not stop.is_set():
                writer.random_command()
        except BaseException as exc:  # reported below
            errors.append(exc)

    def live_runner() -> None:
        runner = ProjectionRunner(container.engine, batch_size=10)
        try:
            while not stop.is_set():
                for name in NAMES:
                    runner.run_batch(name)
                time.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=live_runner)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        results = [container.runner.rebuild(name, batch_size=25) for name in NAMES]
        time.sleep(0.2)  # more commands after the switch, applied by the live runner
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    for name, result in zip(NAMES, results, strict=True):
        assert state(container, name) == (2, None)
        assert generations_present(container, name) <= {2}
        container.runner.catch_up(name)
        scratch = 50
        container.runner.catch_up(name, generation=scratch)
        assert snapshot(container.engine, name) == snapshot(container.engine, name, scratch)
        assert result.checkpoint <= container.store.head()
    assert sum(row_count(container.engine, t, 2) for t in read_model_tables()) > 0
