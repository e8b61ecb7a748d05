"""The aggregate cache (commands/aggregate_cache.py): a command on a long stream reads only the
events appended since this process's last command on it; what another process appended is
still seen; a failed attempt caches nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from commands import COMMAND_HANDLERS, CommandBus
from commands import messages as m
from commands.rehydrate import load
from domain.actor import Actor
from domain.errors import WorkerVersionAlreadyExists
from domain.local_process import LocalProcess, local_process_stream
from domain.worker import Worker
from worker_runs.bootstrap import Container


class Reads:
    """What the store was asked for: (stream, after_version, events returned)."""

    def __init__(self, container: Container) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self._store = container.store
        self._original = container.store.read_stream

        def read_stream(stream_id: str, after_version: int = 0) -> Any:
            found = self._original(stream_id, after_version)
            self.calls.append((stream_id, after_version, len(found)))
            return found

        container.store.read_stream = read_stream  # type: ignore[method-assign]

    def of(self, stream_id: str) -> list[tuple[int, int]]:
        return [(after, count) for s, after, count in self.calls if s == stream_id]


@pytest.fixture
def reads(container: Container) -> Iterator[Reads]:
    recorder = Reads(container)
    yield recorder
    del container.store.read_stream  # back to the class method


def _worker_with_versions(container: Container, versions: int) -> tuple[Actor, str]:
    bus = container.bus
    alice = Actor(bus.handle(m.RegisterUser("alice")).data["user_id"])
    worker_id = bus.handle(m.CreateWorker("OCR", "ocr", "ocr"), actor=alice).data["worker_id"]
    for n in range(versions):
        bus.handle(m.CreateWorkerVersion(worker_id, {"tag": f"v{n}"}), actor=alice)
    return alice, worker_id


def test_a_long_stream_is_not_replayed_by_the_next_command(container: Container, reads: Reads) -> None:
    alice, worker_id = _worker_with_versions(container, 30)
    reads.calls.clear()
    container.bus.handle(m.CreateWorkerVersion(worker_id, {"tag": "next"}), actor=alice)
    # The 31 events of the worker's stream were not read again: only what came after them.
    assert reads.of(f"worker-{worker_id}") == [(31, 0)]


def test_what_another_process_appended_is_seen(container: Container, reads: Reads) -> None:
    alice, worker_id = _worker_with_versions(container, 3)
    # Another API process: the same store, its own (empty) cache.
    other = CommandBus(container.store, COMMAND_HANDLERS, clock=container.bus.clock, ids=container.bus.ids)
    other.handle(m.CreateWorkerVersion(worker_id, {"tag": "from-elsewhere"}), actor=alice)
    reads.calls.clear()
    with pytest.raises(WorkerVersionAlreadyExists):
        container.bus.handle(m.CreateWorkerVersion(worker_id, {"tag": "from-elsewhere"}), actor=alice)
    assert reads.of(f"worker-{worker_id}") == [(4, 1)]  # the cached 4 events, then the new one


def test_a_failed_command_caches_nothing(container: Container, reads: Reads) -> None:
    alice, worker_id = _worker_with_versions(container, 3)
    with pytest.raises(WorkerVersionAlreadyExists):
        container.bus.handle(m.CreateWorkerVersion(worker_id, {"tag": "v1"}), actor=alice)
    reads.calls.clear()
    container.bus.handle(m.CreateWorkerVersion(worker_id, {"tag": "v9"}), actor=alice)
    assert reads.of(f"worker-{worker_id}") == [(0, 4)]  # replayed from the store
    listed = [e.payload.get("tag") for e in container.store.read_stream(f"worker-{worker_id}")]
    assert listed == [None, "v0", "v1", "v2", "v9"]


def test_a_stream_found_by_alias_folds_only_what_is_new_into_its_cached_aggregate(
        container: Container) -> None:
    """`find` on PostgreSQL reads a short stream with its alias in one query; the aggregate this
    process cached is then not replayed, but still sees what another process appended."""
    alice, worker_id = _worker_with_versions(container, 2)
    stream = f"worker-{worker_id}"
    created = container.bus.handle(m.CreateWorkerVersion(worker_id, {"tag": "t"}), actor=alice)
    version_id = created.data["version_id"]
    assert container.bus.aggregates is not None
    cached = container.bus.aggregates._entries[stream][0]
    other = CommandBus(container.store, COMMAND_HANDLERS, clock=container.bus.clock, ids=container.bus.ids)
    other.handle(m.CreateWorkerVersion(worker_id, {"tag": "from-elsewhere"}), actor=alice)

    container.bus.handle(m.UpdateWorkerVersion(version_id, {"tag": "renamed"}), actor=alice)

    again = container.bus.aggregates._entries[stream][0]
    assert again is cached  # folded, not rebuilt
    replayed = load(container.store, Worker, stream)
    assert again.version == replayed.version == 6
    assert again.versions == replayed.versions
    assert {v.tag for v in again.versions.values()} >= {"renamed", "from-elsewhere"}


def test_the_local_process_read_with_the_worker_folds_only_what_is_new(container: Container) -> None:
    """CreateUserRun reads the user's local process with the worker's version alias (`find`'s
    `along`, one query on PostgreSQL): the aggregate this process cached is folded, not rebuilt,
    and still sees the run another process appended."""
    bus = container.bus
    alice = Actor(bus.handle(m.RegisterUser("alice")).data["user_id"])
    worker_id = bus.handle(m.CreateWorker("OCR", "ocr", "ocr"), actor=alice).data["worker_id"]
    versions = [bus.handle(m.CreateWorkerVersion(worker_id, {"tag": f"v{n}"}), actor=alice).data["version_id"]
                for n in range(3)]
    stream = local_process_stream(alice.user_id)
    first = bus.handle(m.CreateUserRun(versions[0]), actor=alice).data["run_id"]
    assert bus.aggregates is not None
    cached = bus.aggregates._entries[stream][0]
    other = CommandBus(container.store, COMMAND_HANDLERS, clock=bus.clock, ids=bus.ids)
    second = other.handle(m.CreateUserRun(versions[1]), actor=alice).data["run_id"]

    third = bus.handle(m.CreateUserRun(versions[2]), actor=alice).data["run_id"]

    again = bus.aggregates._entries[stream][0]
    assert again is cached  # folded, not rebuilt
    replayed = load(container.store, LocalProcess, stream)
    assert isinstance(again, LocalProcess)
    assert again.version == replayed.version
    assert set(again.runs) == set(replayed.runs) == {first, second, third}
    assert again.run_by_version == replayed.run_by_version
