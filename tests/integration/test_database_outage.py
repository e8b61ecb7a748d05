"""A database outage is a 503 with Retry-After, never a 500; a committed write is never answered
with an error; a COMMIT whose outcome is unknown is resolved before answering (issue 12, item 5).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pytest
import sqlalchemy as sa

from api.app import create_app
from api.reads import ReadModels
from eventstore import SqlEventStore
from projections.tables import rm_workers
from tests.api_support import Api, ApiUser
from worker_runs.bootstrap import Container

WORKER = {"name": "OCR", "slug": "ocr", "type": "ocr"}


def _lost_connection() -> sa.exc.OperationalError:
    """The error SQLAlchemy raises when the server closed the connection under a statement."""
    return sa.exc.OperationalError(
        "COMMIT", None, Exception("server closed the connection unexpectedly"), connection_invalidated=True,
    )


def _workers_recorded(container: Container) -> int:
    return sum(1 for e in container.store.iter_all() if e.event_type == "WorkerCreated")


def test_a_database_outage_is_503_with_retry_after(container: Container, alice: ApiUser) -> None:
    # Nothing listens on port 1: every connection attempt fails at once, as during a restart.
    gone = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none",
                            connect_args={"connect_timeout": 2})
    app = create_app(dataclasses.replace(container, engine=gone, store=SqlEventStore(gone)))
    client = falcon.testing.TestClient(app)
    for method, path, body in (("GET", "/api/v1/workers/", None), ("POST", "/api/v1/workers/", WORKER)):
        result = client.simulate_request(method, path, json=body, headers=alice.headers)
        assert result.status_code == 503, result.text
        assert result.headers["Retry-After"] == "2"
        assert result.json["errors"][0]["code"] == "database_unavailable"
    gone.dispose()


def test_a_committed_write_whose_object_cannot_be_read_back_answers_the_object_marked_stale(
    api: Api, container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def database_gone(*_args: Any, **_kwargs: Any) -> bool:
        raise _lost_connection()

    monkeypatch.setattr(ReadModels, "wait", database_gone)  # right after the append committed
    result = api.post("/api/v1/workers/", WORKER)
    assert result.status_code == 201, result.text
    assert result.headers["X-Stale"] == "true" and result.headers["X-Stale-Reason"] == "unreadable"
    assert result.json["slug"] == "ocr" and result.json["name"] == "OCR"
    monkeypatch.undo()
    # The answer names the object the command created, and there is exactly one.
    again = api.get(f"/api/v1/workers/{result.json['id']}/")
    assert again.status_code == 200 and again.json["slug"] == "ocr"
    assert _workers_recorded(container) == 1


class _Writer:
    """The store's writer engine, losing the connection around COMMIT: `after=True` once the
    server applied it (the client never hears), `after=False` before (rolled back)."""

    def __init__(self, engine: sa.Engine, *, after: bool) -> None:
        self.engine = engine
        self.after = after
        self.armed = True

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        if not self.armed:
            with self.engine.begin() as conn:
                yield conn
            return
        self.armed = False
        if self.after:
            with self.engine.begin() as conn:
                yield conn
            raise _lost_connection()
        with self.engine.connect() as conn, conn.begin() as transaction:
            yield conn
            transaction.rollback()
            raise _lost_connection()


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_an_unknown_commit_outcome_is_resolved_by_the_id_recorded_with_it(
    api: Api, container: Container, applied: bool,
) -> None:
    store = container.store
    assert isinstance(store, SqlEventStore)
    store._writer = _Writer(store._writer, after=applied)  # type: ignore[assignment]
    result = api.post("/api/v1/workers/", WORKER)
    if applied:
        # Looked up, found: a normal success, no error the client would retry into a duplicate.
        assert result.status_code == 201, result.text
        assert result.json["slug"] == "ocr"
        assert _workers_recorded(container) == 1
    else:
        # Looked up, absent: nothing was written, a 503 the client can safely retry.
        assert result.status_code == 503 and result.headers["Retry-After"] == "2", result.text
        assert _workers_recorded(container) == 0
        assert api.post("/api/v1/workers/", WORKER).status_code == 201
        assert _workers_recorded(container) == 1
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rm_workers)).scalar() == 1
