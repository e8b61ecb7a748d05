"""Races on a real database: threads released together by a `threading.Barrier`.

The invariant "one user worker run per worker version per user" is decided by the
`LocalProcess` aggregate and guarded only by the store's optimistic concurrency, so it must
hold when many requests load the same stream version at the same instant.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from commands import messages as m
from commands.bus import CommandResult
from domain.actor import Actor
from domain.errors import UserRunAlreadyExists
from eventstore import ConcurrencyConflict, Metadata, NewEvent, SqlEventStore, StreamAppend
from tests.race_support import RUN_RACERS, run_concurrently
from worker_runs.bootstrap import Container

RUN_ROUNDS = 20


def meta() -> Metadata:
    return Metadata("user", "u", "c", "c", occurred_at=datetime.now(UTC))


def _setup_owner(container: Container) -> tuple[Actor, str]:
    bus = container.bus
    alice = Actor(bus.handle(m.RegisterUser("alice")).data["user_id"])
    worker_id = bus.handle(m.CreateWorker("OCR", "ocr", "ocr"), actor=alice).data["worker_id"]
    return alice, worker_id


def count_conflicts(store: SqlEventStore) -> Counter[str]:
    """Wrap `store.append` (the bus's store) to count the appends refused as conflicts, so a
    test can show the racers really loaded the same version instead of running one by one."""
    seen: Counter[str] = Counter()
    original = store.append

    def append(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        except ConcurrencyConflict:
            seen["conflicts"] += 1
            raise

    store.append = append  # type: ignore[method-assign]
    return seen


def _run_round(container: Container, actor: Actor, worker_id: str, round_no: int) -> tuple[str, Counter[str]]:
    """One 64-way CreateUserRun race on a fresh version; returns the winner and the counts."""
    bus = container.bus
    version_id = bus.handle(m.CreateWorkerVersion(worker_id), actor=actor).data["version_id"]
    conflicts = count_conflicts(container.store)

    outcomes = run_concurrently(RUN_RACERS, lambda _i: bus.handle(m.CreateUserRun(version_id), actor=actor))

    del container.store.append  # back to the class method
    counts: Counter[str] = Counter(
        "created" if o.error is None else type(o.error).__name__ for o in outcomes
    )
    print(f"round {round_no:2d}: {dict(counts)}, append conflicts retried: {conflicts['conflicts']}")
    winners = [o.value for o in outcomes if o.error is None]
    assert len(winners) == 1, counts
    winner: CommandResult = winners[0]
    run_id = winner.data["run_id"]
    losers = [o.error for o in outcomes if o.error is not None]
    assert len(losers) == RUN_RACERS - 1, counts
    # Every loser is told which run exists, not a generic conflict.
    assert all(isinstance(e, UserRunAlreadyExists) for e in losers), counts
    assert {e.existing_id for e in losers if isinstance(e, UserRunAlreadyExists)} == {run_id}

    runs = [e for e in container.store.read_stream(f"local-process-{actor.user_id}")
            if e.payload["worker_version_id"] == version_id]
    assert [e.payload["run_id"] for e in runs] == [run_id]
    assert runs[0].global_position == winner.position
    return run_id, counts + conflicts


@pytest.mark.postgres
def test_64_concurrent_user_runs_make_exactly_one_run_postgres(pg_race_container: Container) -> None:
    alice, worker_id = _setup_owner(pg_race_container)
    totals: Counter[str] = Counter()
    run_ids = set()
    for round_no in range(1, RUN_ROUNDS + 1):
        run_id, counts = _run_round(pg_race_container, alice, worker_id, round_no)
        run_ids.add(run_id)
        totals.update(counts)
    print(f"postgres, {RUN_ROUNDS} rounds x {RUN_RACERS} racers: {dict(totals)}")
    conflicts = totals.pop("conflicts", 0)
    assert totals == {"created": RUN_ROUNDS, "UserRunAlreadyExists": RUN_ROUNDS * (RUN_RACERS - 1)}
    # The racers did load the same stream version (else this would test nothing): some
    # appends lost to the winner and were retried into the domain error.
    assert conflicts > 0
    assert len(run_ids) == RUN_ROUNDS
    stream = pg_race_container.store.read_stream(f"local-process-{alice.user_id}")
    assert [e.stream_version for e in stream] == list(range(1, RUN_ROUNDS + 1))
    _assert_gap_free(pg_race_container.store)


#: SQLite serialises writers, and on an idle machine a racer can sometimes finish its whole
#: command before the next one loads the stream: rounds continue until one shows a real race.
SQLITE_MAX_ROUNDS = 10


def test_64_concurrent_user_runs_make_exactly_one_run_sqlite(sqlite_race_container: Container) -> None:
    alice, worker_id = _setup_owner(sqlite_race_container)
    conflicts = 0
    rounds = 0
    while conflicts == 0 and rounds < SQLITE_MAX_ROUNDS:
        rounds += 1
        _, counts = _run_round(sqlite_race_container, alice, worker_id, rounds)
        conflicts = counts.pop("conflicts", 0)
        # Every round, raced or not, leaves exactly one run.
        assert counts == {"created": 1, "UserRunAlreadyExists": RUN_RACERS - 1}
    print(f"sqlite, {rounds} round(s) x {RUN_RACERS} racers, conflicts in the last: {conflicts}")
    # The racers did load the same stream version in at least one round.
    assert conflicts > 0
    _assert_gap_free(sqlite_race_container.store)


def _assert_gap_free(store: SqlEventStore) -> None:
    # Losers' rolled-back transactions must not have burnt positions.
    positions = [e.global_position for e in store.iter_all(0)]
    assert positions == list(range(1, store.head() + 1))


# --- the store itself -----------------------------------------------------------------------------


def _without_the_version_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """The append without its expected-version look (the counter's NULL guard), so that the
    UNIQUE(stream_id, stream_version) constraint alone decides: the guard the design relies on,
    not the cheap check in front of it."""
    from eventstore.pg_append import append_params as original

    def unchecked(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**original(*args, **kwargs), "expected": "[]"}

    monkeypatch.setattr("eventstore.store.append_params", unchecked)


@pytest.mark.postgres
@pytest.mark.parametrize("checked", [True, False], ids=["checked", "unique-only"])
def test_two_appends_at_the_same_expected_version(pg_engine: Engine, checked: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if not checked:
        _without_the_version_look(monkeypatch)
    store = SqlEventStore(pg_engine)
    rounds = 25
    for r in range(rounds):
        stream = f"s-{r}"
        store.append([StreamAppend(stream, 0, [NewEvent("First", {})])], metadata=meta())

        outcomes = run_concurrently(
            2, lambda i, s=stream: store.append([StreamAppend(s, 1, [NewEvent("Second", {"by": i})])],
                                                metadata=meta()),
        )

        errors = [o.error for o in outcomes if o.error is not None]
        assert len(errors) == 1, outcomes
        assert isinstance(errors[0], ConcurrencyConflict)
        (second,) = store.read_stream(stream, after_version=1)
        winner = next(i for i, o in enumerate(outcomes) if o.error is None)
        assert second.payload == {"by": winner}
    assert store.head() == 2 * rounds
    _assert_gap_free(store)


@pytest.mark.postgres
def test_same_command_id_from_16_threads_runs_once(pg_container: Container) -> None:
    bus, store = pg_container.bus, pg_container.store
    alice = Actor(bus.handle(m.RegisterUser("alice")).data["user_id"])
    for r in range(5):
        command_id = str(uuid.uuid4())
        # A new type each round: one command, two events in two streams (type + worker).
        command = m.CreateWorker(name=f"W{r}", slug=f"w-{r}", type=f"type {r}")
        head = store.head()

        outcomes = run_concurrently(
            16, lambda _i, c=command, k=command_id: bus.handle(c, actor=alice, command_id=k),
        )

        assert [o.error for o in outcomes if o.error is not None] == []
        results: list[CommandResult] = [o.value for o in outcomes]
        assert sum(not r.replayed for r in results) == 1
        assert {(tuple(sorted(r.data.items())), r.position) for r in results} == {
            (tuple(sorted(results[0].data.items())), results[0].position)
        }
        assert results[0].data["created"] is True
        new = store.read_all(head)
        assert sorted(e.event_type for e in new) == ["WorkerCreated", "WorkerTypeCreated"]
        assert {e.command_id for e in new} == {command_id}
        assert results[0].position == store.head()
