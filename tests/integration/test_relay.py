"""The relay, with an in-memory publisher: what it announces, when, and that only one runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from eventstore.engine import make_engine
from projections.registry import PROJECTIONS
from projections.relay import Relay, RelayLockUnavailable
from projections.runner import ProjectionRunner
from projections.status import relay_checkpoint
from tests.projection_workload import Workload
from tests.waiting import running
from worker_runs.bootstrap import Container

NAMES = sorted(PROJECTIONS)


class Recorder:
    """A publisher that records messages (and can be told to fail, like a broker that is down)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, int]] = []
        self.failing = False
        self.event = threading.Event()
        self._published = threading.Condition()

    def publish(self, name: str, target: int) -> None:
        if self.failing:
            raise ConnectionError("broker unreachable")
        with self._published:
            self.messages.append((name, target))
            self._published.notify_all()
        self.event.set()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Until `count` messages were published."""
        with self._published:
            return self._published.wait_for(lambda: len(self.messages) >= count, timeout)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_relay(container: Container, publisher: Recorder, **kwargs: object) -> Relay:
    return Relay(container.engine, publisher, NAMES, lock_path=container.settings.home / "relay.lock",
                 **kwargs)  # type: ignore[arg-type]


def test_announces_the_head_once_per_projection(container: Container) -> None:
    recorder = Recorder()
    relay = make_relay(container, recorder)
    assert relay.step().published == []  # empty store: nothing to say
    workload = Workload(container.bus, seed=1)
    for _ in range(20):
        workload.random_command()
    head = container.store.head()
    result = relay.step()
    assert result.published == NAMES and recorder.messages == [(n, head) for n in NAMES]
    assert relay_checkpoint(container.engine) == head
    # Served: nothing more to announce.
    for name in NAMES:
        container.runner.catch_up(name)
    assert relay.step().published == []
    assert len(recorder.messages) == len(NAMES)


def test_one_message_in_flight_per_projection(container: Container) -> None:
    """New events while a message is not served yet: no second message; once it is
    served, one message covers everything that arrived meanwhile."""
    recorder = Recorder()
    clock = FakeClock()
    relay = make_relay(container, recorder, clock=clock, catchup_interval=5)
    workload = Workload(container.bus, seed=2)
    workload.random_command()
    first = container.store.head()
    relay.step()
    for _ in range(5):
        workload.random_command()
    result = relay.step()
    assert result.published == [] and result.waiting == NAMES
    ProjectionRunner(container.engine, batch_size=1).catch_up("catalog", target=first)
    assert container.runner.live_checkpoint("catalog") == first
    clock.now += 1
    result = relay.step()
    head = container.store.head()
    assert result.published == ["catalog"] and recorder.messages[-1] == ("catalog", head)
    assert result.waiting == [n for n in NAMES if n != "catalog"]


def test_republishes_for_a_projection_that_stopped_moving(container: Container) -> None:
    """A message lost with a killed worker: after catchup_interval without progress, again."""
    recorder = Recorder()
    clock = FakeClock()
    relay = make_relay(container, recorder, clock=clock, catchup_interval=2)
    Workload(container.bus, seed=3).random_command()
    relay.step()
    clock.now += 1.9
    assert relay.step().published == []
    clock.now += 0.2
    assert relay.step().published == NAMES
    assert len(recorder.messages) == 2 * len(NAMES)


def test_a_broker_failure_keeps_the_announcement_for_later(container: Container) -> None:
    """At-least-once: nothing is recorded as sent unless the broker took it."""
    recorder = Recorder()
    relay = make_relay(container, recorder)
    Workload(container.bus, seed=4).random_command()
    recorder.failing = True
    with pytest.raises(ConnectionError):
        relay.step()
    assert relay_checkpoint(container.engine) == 0
    recorder.failing = False
    assert relay.step().published == NAMES


def test_a_new_relay_announces_to_every_lagging_projection(container: Container) -> None:
    Workload(container.bus, seed=5).random_command()
    first = Recorder()
    make_relay(container, first).step()
    container.runner.catch_up("catalog")
    second = Recorder()
    assert make_relay(container, second).step().published == [n for n in NAMES if n != "catalog"]


def test_run_loop_publishes_and_stops(container: Container) -> None:
    recorder = Recorder()
    relay = make_relay(container, recorder)
    with running(relay.run) as thread:
        Workload(container.bus, seed=6).random_command()
        assert recorder.event.wait(5)
    assert not thread.is_alive()
    assert {name for name, _ in recorder.messages} == set(NAMES)


def test_only_one_relay_runs(container: Container) -> None:
    Workload(container.bus, seed=6).random_command()
    announced = Recorder()
    first = make_relay(container, announced)
    with running(first.run):
        # It announces only once it holds the lock.
        assert announced.event.wait(5), "the first relay never took the lock"
        second = make_relay(container, Recorder())
        stopped = threading.Event()
        stopped.set()  # if it got the lock, it returns at once instead of relaying
        with pytest.raises(RelayLockUnavailable):
            second.run(stopped, wait_for_lock=False)
    # Released: now the second one can run (and stops at once when asked).
    done = threading.Event()
    done.set()
    make_relay(container, Recorder()).run(done, wait_for_lock=False)


def test_a_standby_relay_takes_over(container: Container) -> None:
    recorder, running = Recorder(), Recorder()
    first_stop, second_stop = threading.Event(), threading.Event()
    Workload(container.bus, seed=7).random_command()
    first = threading.Thread(target=make_relay(container, running).run, args=(first_stop,))
    first.start()
    assert running.event.wait(5)  # it announces only once it holds the lock
    second = threading.Thread(target=make_relay(container, recorder).run, args=(second_stop,))
    second.start()
    try:
        # A relay that did not stand by would announce the lagging projections at once.
        assert not recorder.event.wait(0.5)
        assert recorder.messages == []  # standing by
        first_stop.set()
        first.join(10)
        assert recorder.event.wait(5)  # took over within its retry interval
    finally:
        first_stop.set()
        second_stop.set()
        first.join(10)
        second.join(10)


@pytest.mark.postgres
def test_notify_wakes_the_relay_without_waiting_for_the_poll(pg_container: Container) -> None:
    recorder = Recorder()
    relay = make_relay(pg_container, recorder, poll_interval=30.0)
    workload = Workload(pg_container.bus, seed=8)
    workload.user()
    with running(relay.run, timeout=5) as thread:
        # Listening: it announces only after LISTEN. Once every projection has served that
        # message, the relay has nothing to wait for but the 30 s poll or a notification.
        assert recorder.wait_for(len(NAMES))
        for name in NAMES:
            pg_container.runner.catch_up(name)
        recorder.event.clear()
        started = time.monotonic()
        workload.user()
        assert recorder.event.wait(5)
        assert time.monotonic() - started < 2.0  # far below the 30 s poll
    assert not thread.is_alive()  # a long poll does not delay the stop


def test_sqlite_lock_file_sits_next_to_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'w.db'}")
    relay = Relay(engine, Recorder(), NAMES)
    assert relay.lock_path == tmp_path / "db" / "w.db.relay.lock"
    assert relay.poll_interval < 0.1  # no NOTIFY on SQLite: the poll is what wakes it
    engine.dispose()
