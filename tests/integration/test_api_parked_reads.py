"""A create whose event a projection parked: the answer says it is stale (X-Stale), and why.

A parked event moves the projection's checkpoint past it (projections/runner.py), so the
read-your-writes wait succeeds while the object is missing from the read models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from domain import events as ev
from projections.envelope import Envelope
from projections.ops import Op
from projections.registry import PROJECTIONS, Projection
from projections.runner import ProjectionRunner, RetryPolicy
from projections.tables import dead_letters
from tests.api_support import Api, BackgroundProjector
from tests.projection_workload import ProjectorBug
from worker_runs.bootstrap import Container

POISON = "poison"


def _failing_on_poison(name: str, event_class: type[ev.DomainEvent]) -> Projection:
    """`name`, except that it raises for `event_class` events carrying the POISON marker."""
    original = PROJECTIONS[name]
    project = original.projectors[event_class]

    def handle(envelope: Envelope[Any]) -> list[Op]:
        if POISON in (getattr(envelope.event, "name", None), getattr(envelope.event, "summary", None)):
            raise ProjectorBug(f"cannot project {event_class.__name__}")
        return project(envelope)

    return Projection(name, {**original.projectors, event_class: handle}, original.tables)


@pytest.fixture
def projector(container: Container) -> Iterator[BackgroundProjector]:
    """The API tests' background projector, with run and corpus projectors that park POISON
    at the first failure."""
    running = BackgroundProjector(container.engine)
    projections = {
        **PROJECTIONS,
        "user_runs": _failing_on_poison("user_runs", ev.UserWorkerRunCreated),
        "documents": _failing_on_poison("documents", ev.CorpusCreated),
    }
    running.runner = ProjectionRunner(container.engine, projections, policy=RetryPolicy(max_attempts=1))
    running.start()
    yield running
    running.stop()


def _parked(container: Container, position: int) -> bool:
    with container.engine.connect() as conn:
        query = sa.select(dead_letters).where(dead_letters.c.global_position == position)
        return conn.execute(query).first() is not None


def test_a_parked_run_creation_is_answered_stale(api: Api, container: Container) -> None:
    worker = api.create_worker("OCR")
    version = api.create_version(worker["id"])
    fine = api.post("/api/v1/process/workers/", {"worker_version_id": version["id"]})
    assert fine.status_code == 201, fine.json
    assert "X-Stale" not in fine.headers and fine.json["summary"]

    other = api.create_version(worker["id"])
    parked = api.post("/api/v1/process/workers/", {"worker_version_id": other["id"], "summary": POISON})
    assert parked.status_code == 201, parked.json
    assert set(parked.json) == {"id"}
    assert parked.headers["X-Stale"] == "true"
    assert parked.headers["X-Stale-Reason"] == "parked"
    assert _parked(container, int(parked.headers["X-Event-Position"]))


def test_a_parked_corpus_creation_is_answered_stale(api: Api, container: Container) -> None:
    fine = api.post("/api/v1/corpus/", {"name": "Letters"})
    assert fine.status_code == 201, fine.json
    assert "X-Stale" not in fine.headers and fine.json["name"] == "Letters"

    parked = api.post("/api/v1/corpus/", {"name": POISON})
    assert parked.status_code == 201, parked.json
    assert set(parked.json) == {"id"}
    assert parked.headers["X-Stale"] == "true"
    assert parked.headers["X-Stale-Reason"] == "parked"
