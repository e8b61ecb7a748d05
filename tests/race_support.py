"""Races on a real database: threads released together by a `threading.Barrier`, and the
containers they race on (pools big enough that racers race for the write, not for a connection)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from tests.conftest import PostgresSchema, settings_for
from worker_runs.bootstrap import Container, bootstrap

T = TypeVar("T")

RUN_RACERS = 64
#: one connection per racer plus headroom; PostgreSQL's max_connections is 100 here
BIG_POOL: dict[str, Any] = {"pool_size": RUN_RACERS + 4, "max_overflow": 8}


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: BaseException | None = None


def run_concurrently(n: int, fn: Callable[[int], T]) -> list[Outcome]:
    """Call fn(0..n-1) in n threads released at once; every outcome, value or exception."""
    barrier = threading.Barrier(n, timeout=60)
    outcomes: list[Outcome | None] = [None] * n

    def target(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = Outcome(value=fn(i))
        except BaseException as exc:  # recorded, asserted on by the caller
            outcomes[i] = Outcome(error=exc)

    threads = [threading.Thread(target=target, args=(i,), name=f"racer-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer is stuck"
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


@pytest.fixture
def pg_race_container(pg_schema: PostgresSchema, tmp_path: Path) -> Iterator[Container]:
    engine = pg_schema.engine(**BIG_POOL)
    upgrade(engine)
    yield bootstrap(settings_for(engine, tmp_path), engine=engine)
    engine.dispose()


@pytest.fixture
def sqlite_race_container(tmp_path: Path) -> Iterator[Container]:
    # SQLite file databases use a QueuePool of 5+10 by default: racers would queue for a
    # connection instead of racing for the write lock.
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}", **BIG_POOL)
    upgrade(engine)
    yield bootstrap(settings_for(engine, tmp_path), engine=engine)
    engine.dispose()
