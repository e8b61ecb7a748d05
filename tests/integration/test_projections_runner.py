"""The runner: rows and checkpoint in one transaction, so the effect is exactly-once.

The property test delivers the same log many ways (random batch sizes, repeated runner
invocations, crashes mid-batch, rewinds that deliver events a second time, concurrent
runners) into a fresh generation and checks it equals the generation built once from zero.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.envelope import Envelope
from projections.registry import PROJECTIONS, Projection
from projections.runner import ProjectionRunner, UnknownProjection
from projections.tables import projection_checkpoints
from tests.projection_workload import Workload, snapshot
from worker_runs.bootstrap import Container

NAMES = sorted(PROJECTIONS)


@pytest.fixture
def loaded(container: Container) -> Container:
    """A container whose log holds a realistic mix of a few hundred events."""
    workload = Workload(container.bus, seed=7)
    for _ in range(160):
        workload.random_command()
    return container


def checkpoint(container: Container, name: str, generation: int) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(sa.select(projection_checkpoints.c.position).where(
            projection_checkpoints.c.name == name, projection_checkpoints.c.generation == generation,
        )).scalar() or 0)


def test_catch_up_applies_everything_and_records_the_checkpoint(loaded: Container) -> None:
    runner = ProjectionRunner(loaded.engine, batch_size=50)
    head = loaded.store.head()
    for name in NAMES:
        result = runner.catch_up(name)
        assert result.caught_up and result.checkpoint == head
        assert result.batches == head // 50 + 1
        assert checkpoint(loaded, name, 1) == head
        assert runner.live_checkpoint(name) == head
    runs = snapshot(loaded.engine, "user_runs")["rm_user_runs"]
    assert len(runs) == len({r for r in runs}) > 0


def test_a_second_run_finds_nothing_to_do(loaded: Container) -> None:
    runner = loaded.runner
    runner.catch_up("catalog")
    before = snapshot(loaded.engine, "catalog")
    again = runner.run_batch("catalog")
    assert again.processed == 0 and again.caught_up
    assert snapshot(loaded.engine, "catalog") == before


def test_catch_up_stops_at_a_target_or_a_time_budget(loaded: Container) -> None:
    runner = ProjectionRunner(loaded.engine, batch_size=10)
    result = runner.catch_up("catalog", target=25)
    assert result.caught_up and 25 <= result.checkpoint < 35
    result = runner.catch_up("catalog", time_budget=0.0)
    assert result.batches == 1 and not result.caught_up


def test_unknown_projection_is_a_named_error(container: Container) -> None:
    with pytest.raises(UnknownProjection):
        container.runner.run_batch("nope")


class Crash(BaseException):
    """A process dying mid-batch: not an Exception, so nothing in the runner handles it."""


@dataclass
class Crasher:
    """Wraps projections so that the n-th projector call dies (n = None: never)."""

    countdown: int | None = None

    def wrap(self, projection: Projection) -> Projection:
        def guard(projector):  # type: ignore[no-untyped-def]
            def call(envelope: Envelope[Any]):  # type: ignore[no-untyped-def]
                if self.countdown is not None:
                    self.countdown -= 1
                    if self.countdown < 0:
                        self.countdown = None
                        raise Crash()
                return projector(envelope)
            return call
        return Projection(projection.name, {t: guard(p) for t, p in projection.projectors.items()},
                          projection.tables)


_generations: Iterator[int] = itertools.count(100)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("batch"), st.integers(1, 60)),
        st.tuples(st.just("crash"), st.integers(1, 60), st.integers(0, 40)),
        st.tuples(st.just("rewind"), st.integers(1, 80)),
        st.tuples(st.just("concurrent"), st.integers(1, 60)),
    ),
    min_size=1, max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=actions, name=st.sampled_from(NAMES))
def test_exactly_once_effect_whatever_the_delivery(
    loaded: Container, plan: list[tuple[object, ...]], name: str,
) -> None:
    reference_runner = ProjectionRunner(loaded.engine, batch_size=1000)
    reference_runner.catch_up(name)  # the live generation, built once from zero
    reference = snapshot(loaded.engine, name)

    generation = next(_generations)
    crasher = Crasher()
    runner = ProjectionRunner(loaded.engine, {n: crasher.wrap(p) for n, p in PROJECTIONS.items()})
    for action in plan:
        kind = action[0]
        if kind == "batch":
            runner.run_batch(name, generation=generation, batch_size=int(action[1]))
        elif kind == "crash":
            crasher.countdown = int(action[2])
            try:
                runner.run_batch(name, generation=generation, batch_size=int(action[1]))
            except Crash:
                pass  # the transaction rolled back: neither rows nor checkpoint moved
            crasher.countdown = None
        elif kind == "rewind":
            # A redelivery from before the checkpoint: these events are applied a second time.
            with loaded.engine.begin() as conn:
                conn.execute(projection_checkpoints.update().where(
                    projection_checkpoints.c.name == name, projection_checkpoints.c.generation == generation,
                ).values(position=_rewound(conn, name, generation, int(action[1]))))
        else:  # two runners at once (a duplicated task message)
            threads = [threading.Thread(target=runner.run_batch, args=(name,),
                                        kwargs={"generation": generation, "batch_size": int(action[1])})
                       for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    runner.catch_up(name, generation=generation)
    assert checkpoint(loaded, name, generation) == loaded.store.head()
    assert snapshot(loaded.engine, name, generation) == reference


def _rewound(conn: sa.Connection, name: str, generation: int, by: int) -> int:
    current = conn.execute(sa.select(projection_checkpoints.c.position).where(
        projection_checkpoints.c.name == name, projection_checkpoints.c.generation == generation,
    )).scalar() or 0
    return max(int(current) - by, 0)


def test_every_event_delivered_twice_in_random_batches(loaded: Container) -> None:
    """Each batch is applied, rewound and applied again: the rows do not change."""
    rng = random.Random(3)
    for name in NAMES:
        loaded.runner.catch_up(name)
        reference = snapshot(loaded.engine, name)
        generation = next(_generations)
        runner = ProjectionRunner(loaded.engine)
        while checkpoint(loaded, name, generation) < loaded.store.head():
            size = rng.randint(1, 40)
            start = checkpoint(loaded, name, generation)
            runner.run_batch(name, generation=generation, batch_size=size)
            with loaded.engine.begin() as conn:
                conn.execute(projection_checkpoints.update().where(
                    projection_checkpoints.c.name == name, projection_checkpoints.c.generation == generation,
                ).values(position=start))
            runner.run_batch(name, generation=generation, batch_size=size)
        assert snapshot(loaded.engine, name, generation) == reference


def test_concurrent_runners_while_commands_arrive(loaded: Container) -> None:
    """Several runners of the same projection race with writers: each event counts once."""
    workload = Workload(loaded.bus, seed=11)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(60):
                workload.random_command()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            stop.set()

    def run() -> None:
        runner = ProjectionRunner(loaded.engine, batch_size=7)
        try:
            while not stop.is_set():
                for name in NAMES:
                    runner.run_batch(name)
                time.sleep(0.001)  # SQLite serialises writers: leave the command writer room
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for name in NAMES:
        loaded.runner.catch_up(name)
        live = snapshot(loaded.engine, name)
        generation = next(_generations)
        loaded.runner.catch_up(name, generation=generation)
        assert live == snapshot(loaded.engine, name, generation)
