"""A schema-version bump on the projector path, end to end: a row appended in the old shape is
read from the store by the projection runner, decoded and upcast, and lands in the read model.
The control, the same bump without its upcaster, parks the event (it is not projected wrong)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from eventstore import Metadata, NewEvent, StreamAppend
from integrations import index
from integrations.tables import event_scopes
from projections.generations import live_generation
from projections.runner import ProjectionRunner, RetryPolicy
from projections.tables import dead_letters, rm_user_runs
from tests.upcasting_support import OLD_PAYLOAD, STREAM, R, U, V, W, bump
from worker_runs.bootstrap import Container


def _append_old_row(container: Container) -> int:
    """The run as version 1 of `UserWorkerRunCreated` stored it."""
    result = container.store.append(
        [StreamAppend(STREAM, 0, [NewEvent("UserWorkerRunCreated", dict(OLD_PAYLOAD), schema_version=1)])],
        metadata=Metadata("user", U, "c", "c", datetime.now(UTC)),
    )
    assert result.last_position is not None
    return result.last_position


def _runner(container: Container) -> ProjectionRunner:
    return ProjectionRunner(container.engine, policy=RetryPolicy(max_attempts=1))


def test_the_runner_projects_an_old_row_through_its_upcaster(
    container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bump(monkeypatch)
    position = _append_old_row(container)
    assert _runner(container).catch_up("user_runs").checkpoint == position
    with container.engine.connect() as conn:
        generation = live_generation(conn, "user_runs")
        row = conn.execute(sa.select(rm_user_runs).where(
            rm_user_runs.c.generation == generation, rm_user_runs.c.run_id == R,
        )).one()
        assert conn.execute(sa.select(dead_letters)).first() is None
    assert (row.worker_id, row.worker_version_id, row.user_id) == (W, V, U)


def test_control_without_the_upcaster_the_event_is_parked_not_projected(
    container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bump(monkeypatch, upcaster=False)
    position = _append_old_row(container)
    _runner(container).catch_up("user_runs")
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(rm_user_runs)).first() is None
        parked = conn.execute(sa.select(dead_letters.c.global_position, dead_letters.c.error)).one()
    assert parked.global_position == position
    # The reason names the missing upcaster, not a bare KeyError of the registry.
    assert parked.error.startswith("UnknownEventVersion: UserWorkerRunCreated stored at schema version 1")
    assert "no upcaster registered for version 1" in parked.error


def test_control_without_the_upcaster_the_event_index_keeps_going(
    container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index reads every event: the one with no upcaster path is indexed for its author
    only (as an unknown type is), not parked, and the index reaches the head."""
    bump(monkeypatch, upcaster=False)
    position = _append_old_row(container)
    assert index.catch_up(container.engine) == position
    with container.engine.connect() as conn:
        scope = conn.execute(sa.select(event_scopes.c.scope_id).where(
            event_scopes.c.generation == live_generation(conn, index.NAME),
            event_scopes.c.global_position == position,
        )).scalar_one()
        assert conn.execute(sa.select(dead_letters)).first() is None
    assert scope == U
