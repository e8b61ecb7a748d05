"""Helpers for the API tests: projections applied in the background, users with tokens,
a real HTTP server in a thread.

The projections are driven by projections.runner.ProjectionRunner, as the Celery tasks do
in production, from a background thread: the API's read-your-writes wait is then exercised
for real (a read after a write waits for the thread to catch up), with no broker.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import falcon
import falcon.testing
import pytest
from sqlalchemy.engine import Engine

from api.app import create_app
from commands.messages import GrantWorkerAccess, RevokeToken
from domain.actor import Actor
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner
from worker_runs.bootstrap import Container
from worker_runs.ports import free_port
from worker_runs.users import create_user_with_token


class BackgroundProjector:
    """Keeps every projection caught up, from a daemon thread, until stopped."""

    def __init__(self, engine: Engine, idle_sleep: float = 0.005) -> None:
        self.runner = ProjectionRunner(engine, PROJECTIONS)
        self.idle_sleep = idle_sleep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="projector", daemon=True)
        self.errors: list[BaseException] = []

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                processed = sum(self.runner.catch_up(name).processed for name in PROJECTIONS)
            except Exception as exc:  # surfaced by stop(): a test must not pass on a broken projector
                self.errors.append(exc)
                processed = 0
                time.sleep(0.05)
            if not processed:
                self._stop.wait(self.idle_sleep)

    def start(self) -> BackgroundProjector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self.errors:
            raise AssertionError(f"the projector failed: {self.errors[0]!r}") from self.errors[0]

    def catch_up(self) -> None:
        """Synchronously (for tests that inspect the read models directly)."""
        for name in PROJECTIONS:
            self.runner.catch_up(name)


@dataclass(frozen=True)
class ApiUser:
    user_id: str
    token: str
    token_id: str
    username: str

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def make_user(container: Container, username: str, *, admin: bool = False) -> ApiUser:
    email = f"{username}@example.org"
    created = create_user_with_token(container.bus, username, email, admin=admin, label="test")
    return ApiUser(created.user_id, created.token, created.token_id, username)


def revoke(container: Container, user: ApiUser) -> None:
    container.bus.handle(RevokeToken(user_id=user.user_id, token_id=user.token_id))


def grant(container: Container, owner: ApiUser, worker_id: str, user: ApiUser) -> int:
    """Share a worker (no HTTP operation does this yet). Returns the event position: the
    grantee did not write it, so their reads only wait for it when asked to
    (X-Min-Event-Position or ?min_position=)."""
    command = GrantWorkerAccess(worker_id=worker_id, user_id=user.user_id)
    result = container.bus.handle(command, actor=owner.actor)
    assert result.position is not None
    return result.position


class Api:
    """A TestClient bound to a user, with short helpers for the common calls."""

    def __init__(self, client: falcon.testing.TestClient, user: ApiUser | None) -> None:
        self.client = client
        self.user = user

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {**(self.user.headers if self.user else {}), **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> falcon.testing.Result:
        return self.client.simulate_get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> falcon.testing.Result:
        return self.client.simulate_post(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs,
        )

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> falcon.testing.Result:
        return self.client.simulate_patch(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs,
        )

    def as_user(self, user: ApiUser | None) -> Api:
        return Api(self.client, user)

    # --- shortcuts (assert success) ----------------------------------------------------------

    def create_worker(self, name: str, type: str = "recognizer", **fields: Any) -> dict[str, Any]:
        result = self.post("/api/v1/workers/", {"name": name, "slug": fields.pop("slug", None) or _slug(name),
                                                "type": type, **fields})
        assert result.status_code == 201, result.json
        return result.json

    def create_version(self, worker_id: str, **fields: Any) -> dict[str, Any]:
        result = self.post(f"/api/v1/workers/{worker_id}/versions/", fields)
        assert result.status_code == 201, result.json
        return result.json

    def create_run(self, version_id: str, **fields: Any) -> dict[str, Any]:
        result = self.post("/api/v1/process/workers/", {"worker_version_id": version_id, **fields})
        assert result.status_code == 201, result.json
        return result.json


ANY = object()


def assert_error(result: Any, status: int, type: str, code: str, attr: Any = ANY) -> dict[str, Any]:
    """The §6 shape, exactly: type, errors[{attr, code, detail}] (plus extras such as existing_id);
    one of the errors has `code` (and `attr`, when given)."""
    assert result.status_code == status, result.text
    body = result.json
    assert body["type"] == type, body
    assert isinstance(body["errors"], list) and body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"attr", "code", "detail"}, error
        assert isinstance(error["detail"], str) and error["detail"]
        assert error["attr"] is None or all(isinstance(a, str | int) for a in error["attr"])
    codes = [(e["code"], e["attr"]) for e in body["errors"]]
    if attr is ANY:
        assert code in [c for c, _ in codes], body
    else:
        assert (code, attr) in codes, body
    assert "Traceback" not in result.text
    return body


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@pytest.fixture
def projector(container: Container) -> Iterator[BackgroundProjector]:
    running = BackgroundProjector(container.engine).start()
    yield running
    running.stop()


@pytest.fixture
def server(container: Container, projector: BackgroundProjector) -> Iterator[ServerThread]:
    """The app over real HTTP, its projections applied in the background."""
    with ServerThread(create_app(container)) as running:
        yield running


@pytest.fixture
def app(container: Container) -> falcon.App:
    return create_app(container)


@pytest.fixture
def alice(container: Container) -> ApiUser:
    return make_user(container, "alice")


@pytest.fixture
def bob(container: Container) -> ApiUser:
    return make_user(container, "bob")


@pytest.fixture
def admin(container: Container) -> ApiUser:
    return make_user(container, "root", admin=True)


@pytest.fixture
def api(app: falcon.App, projector: BackgroundProjector, alice: ApiUser) -> Api:
    """Alice's client; `api.as_user(bob)` for someone else, `api.as_user(None)` for nobody."""
    return Api(falcon.testing.TestClient(app), alice)


# --- a real HTTP server ------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # Enough for the concurrency tests' bursts: a short accept queue makes the kernel drop
    # SYNs, which clients only retry after a second.
    request_queue_size = 256


class ServerThread:
    """`app` served over real HTTP on 127.0.0.1:<free port>, from a background thread."""

    def __init__(self, app: falcon.App) -> None:
        self.port = free_port()
        self.server = make_server(
            "127.0.0.1", self.port, app, server_class=_ThreadingServer, handler_class=_QuietHandler,
        )
        self.thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)
        self.url = f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
