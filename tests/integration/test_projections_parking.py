"""Failing events: back-off, parking, holding the same stream, replay after a fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from domain.actor import Actor
from domain.local_process import local_process_stream
from projections.envelope import Envelope
from projections.ops import Op
from projections.registry import PROJECTIONS, Projection
from projections.runner import ParkedEventNotRoot, ProjectionRunner, RetryPolicy
from projections.status import projection_statuses
from projections.tables import dead_letters, projection_failures, rm_user_runs
from tests.projection_workload import BrokenFor, Workload, snapshot
from worker_runs.bootstrap import Container


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def runs_of(container: Container, user: Actor) -> set[str]:
    with container.engine.connect() as conn:
        return set(conn.execute(sa.select(rm_user_runs.c.run_id).where(rm_user_runs.c.user_id == user.user_id)
                                .where(rm_user_runs.c.generation == 1)).scalars())


def parked_rows(container: Container) -> list[tuple[int, str, int | None, int]]:
    with container.engine.connect() as conn:
        return [(r.global_position, r.stream_id, r.held_behind, r.attempts) for r in conn.execute(
            sa.select(dead_letters).where(dead_letters.c.name == "user_runs")
            .order_by(dead_letters.c.global_position))]


def test_a_failing_stream_is_parked_and_held_while_others_flow(container: Container) -> None:
    w = Workload(container.bus, seed=5)
    alice, bob = w.user(), w.user()
    w.worker(alice)
    w.worker(bob)
    bad = local_process_stream(alice.user_id)
    broken = BrokenFor(bad)
    clock = Clock()
    runner = ProjectionRunner(container.engine, {"user_runs": broken.projection},
                              policy=RetryPolicy(max_attempts=3, backoff_base=10), clock=clock)

    alice_first, first_position = w.run(alice)
    bob_first, _ = w.run(bob)

    # Attempt 1 fails: the projection waits before the failing event (order is kept).
    result = runner.run_batch("user_runs")
    assert result.retry_after == pytest.approx(10) and result.checkpoint == first_position - 1
    assert runs_of(container, bob) == set()
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(projection_failures.c.attempts)).scalar() == 1

    # Before the back-off elapses, nothing is attempted.
    calls = broken.calls
    assert runner.run_batch("user_runs").retry_after == pytest.approx(10)
    assert broken.calls == calls
    clock.advance(10)
    assert runner.run_batch("user_runs").retry_after == pytest.approx(20)  # attempt 2, doubled back-off
    clock.advance(20)
    result = runner.run_batch("user_runs")  # attempt 3: parked, and the rest flows
    assert result.retry_after is None and result.caught_up and result.parked == 1
    assert runs_of(container, bob) == {bob_first}
    assert runs_of(container, alice) == set()
    assert parked_rows(container) == [(first_position, bad, None, 3)]
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(projection_failures)).scalar() == 0

    # Later events of alice's stream are held behind it; bob's keep flowing.
    alice_second, second_position = w.run(alice)
    bob_second, _ = w.run(bob)
    runner.catch_up("user_runs")
    assert runs_of(container, bob) == {bob_first, bob_second}
    assert runs_of(container, alice) == set()
    assert parked_rows(container) == [
        (first_position, bad, None, 3), (second_position, bad, first_position, 0),
    ]
    [status] = projection_statuses(container.engine, ["user_runs"])
    assert status.parked == 2 and status.lag_events == 0

    # Retrying a held event alone would break the stream's order: refused.
    with pytest.raises(ParkedEventNotRoot):
        runner.retry_parked("user_runs", second_position)

    # Retry while still broken: nothing is lost, the attempt is counted.
    result = runner.retry_parked("user_runs")
    assert result.replayed == [] and result.still_parked == [first_position, second_position]
    assert parked_rows(container)[0][3] == 4

    # Fixed: the replay applies both, in order, and empties the parked list.
    broken.fixed = True
    result = runner.retry_parked("user_runs", first_position)
    assert result.replayed == [first_position, second_position] and result.still_parked == []
    assert runs_of(container, alice) == {alice_first, alice_second}
    assert parked_rows(container) == []

    # The stream flows normally again, and the model equals a rebuild from zero.
    alice_third, _ = w.run(alice)
    runner.catch_up("user_runs")
    assert runs_of(container, alice) == {alice_first, alice_second, alice_third}
    live = snapshot(container.engine, "user_runs")
    container.runner.rebuild("user_runs")
    assert snapshot(container.engine, "user_runs") == live


def test_a_sql_failure_of_one_event_is_isolated(container: Container) -> None:
    """A projector producing a bad column fails in SQL: only that event is parked."""
    w = Workload(container.bus, seed=6)
    alice, bob = w.user(), w.user()
    w.worker(alice)
    bad = local_process_stream(alice.user_id)
    original = PROJECTIONS["user_runs"]

    def handle(envelope: Envelope[Any]) -> list[Op]:
        ops = original.projectors[type(envelope.event)](envelope)
        if envelope.stream_id == bad:
            return [type(op)(op.table, op.key, {**op.values, "no_such_column": 1}) for op in ops]
        return ops

    runner = ProjectionRunner(container.engine, {"user_runs": Projection(
        "user_runs", {t: handle for t in original.projectors}, original.tables)},
        policy=RetryPolicy(max_attempts=1))
    _, alice_position = w.run(alice)
    w.run(alice)
    bob_run, _ = w.run(bob)
    result = runner.catch_up("user_runs")
    assert result.caught_up
    assert runs_of(container, bob) == {bob_run}
    rows = parked_rows(container)
    assert [r[0] for r in rows][0] == alice_position and rows[1][2] == alice_position
    with container.engine.connect() as conn:
        error = conn.execute(sa.select(dead_letters.c.error).where(
            dead_letters.c.global_position == alice_position)).scalar()
    assert "no_such_column" in error

    # The default projector (the "fixed" code) replays them.
    result = container.runner.retry_parked("user_runs")
    assert len(result.replayed) == 2 and len(runs_of(container, alice)) == 2


def test_a_rebuild_skips_parked_events_and_a_retry_reaches_both_generations(container: Container) -> None:
    w = Workload(container.bus, seed=8)
    alice, bob = w.user(), w.user()
    w.worker(alice)
    broken = BrokenFor(local_process_stream(alice.user_id))
    runner = ProjectionRunner(container.engine, {"user_runs": broken.projection},
                              policy=RetryPolicy(max_attempts=1))
    alice_run, _ = w.run(alice)
    w.run(bob)
    runner.catch_up("user_runs")
    assert len(parked_rows(container)) == 1

    # A rebuild with the fixed code still treats the event as parked (one rule for all
    # generations) until it is retried; then the new live generation has it.
    broken.fixed = True
    runner.rebuild("user_runs")
    assert runs_of_live(container, alice) == set()
    assert runner.retry_parked("user_runs").replayed
    assert runs_of_live(container, alice) == {alice_run}


def runs_of_live(container: Container, user: Actor) -> set[str]:
    rows = snapshot(container.engine, "user_runs")["rm_user_runs"]
    return {row[0] for row in rows if row[1] == user.user_id}
