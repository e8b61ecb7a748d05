"""The read-your-writes wait does not amplify load (issue 12, item 7).

- A position above the head (nobody wrote it yet) is answered at once, marked stale: it used
  to hold a server thread for the whole wait, for anyone who asked.
- Waiting reads share one poller per process: the number of checkpoint queries during a wait
  does not grow with the number of waiters (each waiter used to poll on its own).
- Waiters still wake as soon as the projections arrive.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pytest
import sqlalchemy as sa

from api.app import create_app
from commands import messages as m
from domain.actor import Actor
from tests.api_support import ApiUser, make_user
from worker_runs.bootstrap import Container

WAIT = 3.0


@pytest.fixture
def client(container: Container) -> falcon.testing.TestClient:
    settings = dataclasses.replace(container.settings, read_wait_seconds=WAIT)
    return falcon.testing.TestClient(create_app(dataclasses.replace(container, settings=settings)))


@pytest.fixture
def checkpoint_queries(container: Container) -> Iterator[list[float]]:
    """When each query on the checkpoints table ran."""
    seen: list[float] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "projection_checkpoints" in statement:
            seen.append(time.monotonic())

    sa.event.listen(container.engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(container.engine, "before_cursor_execute", count)


def _catch_up(container: Container) -> None:
    for name in container.runner.names:
        container.runner.catch_up(name)


def test_a_position_above_the_head_answers_at_once_marked_stale(
    client: falcon.testing.TestClient, container: Container, alice: ApiUser,
) -> None:
    _catch_up(container)
    head = container.store.head()
    started = time.monotonic()
    result = client.simulate_get("/api/v1/workers/", headers={**alice.headers,
                                                               "X-Min-Event-Position": str(head + 1000)})
    assert time.monotonic() - started < WAIT / 2  # not the whole wait
    assert result.status_code == 200
    assert result.headers["X-Stale"] == "true" and result.headers["X-Projection-Position"] == str(head)


def _waiting_reads(client: falcon.testing.TestClient, user: ApiUser, position: int, count: int,
                   release: threading.Event | None = None) -> list[Any]:
    results: list[Any] = [None] * count

    def read(i: int) -> None:
        results[i] = client.simulate_get("/api/v1/workers/", headers={
            **user.headers, "X-Min-Event-Position": str(position)})

    threads = [threading.Thread(target=read, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    if release is not None:
        release.set()
    for thread in threads:
        thread.join(30)
    return results


def _alice_and_bobs_unprojected_write(container: Container) -> tuple[ApiUser, int]:
    """Alice, and the position of a worker Bob creates after the projections caught up (not
    projected yet)."""
    alice, bob = make_user(container, "alice"), make_user(container, "bob")
    _catch_up(container)
    position = container.bus.handle(m.CreateWorker(name="B", slug="b", type="ocr"),
                                    actor=Actor(bob.user_id)).position
    assert position is not None
    return alice, position


def test_waiting_reads_share_one_poller(
    client: falcon.testing.TestClient, container: Container, checkpoint_queries: list[float],
) -> None:
    # Bob writes; nobody projects it: Alice's reads that ask for it wait the whole WAIT.
    alice, position = _alice_and_bobs_unprojected_write(container)

    def queries_during(count: int) -> int:
        checkpoint_queries.clear()
        results = _waiting_reads(client, alice, position, count)
        assert all(r.headers.get("X-Stale") == "true" for r in results)
        return len(checkpoint_queries)

    one, many = queries_during(1), queries_during(20)
    # Each waiter polling on its own made ~20x the queries; shared, about the same as one.
    assert many < 2 * one + 40, (one, many)


def test_waiters_wake_when_the_projections_arrive(
    client: falcon.testing.TestClient, container: Container,
) -> None:
    alice, position = _alice_and_bobs_unprojected_write(container)
    release = threading.Event()

    def project_soon() -> None:
        release.wait(10)
        time.sleep(0.3)
        _catch_up(container)

    projector = threading.Thread(target=project_soon)
    projector.start()
    started = time.monotonic()
    results = _waiting_reads(client, alice, position, 10, release)
    projector.join(10)
    assert time.monotonic() - started < WAIT  # woken by the projection, not the timeout
    assert all(r.status_code == 200 and "X-Stale" not in r.headers for r in results)
