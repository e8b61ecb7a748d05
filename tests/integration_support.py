"""Helpers for the integration tests: a container with short stream intervals (the `live` and
`client` fixtures), objects created through the command bus, and an SSE reader over real HTTP."""

from __future__ import annotations

import dataclasses
import http.client
import json
import socket
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
from sqlalchemy.engine import Engine

from api.app import create_app
from commands.messages import CreateUserRun, CreateWorker, CreateWorkerVersion
from tests.api_support import ApiUser
from tests.conftest import settings_for
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.settings import Settings


def fast_settings(settings: Settings, **overrides: Any) -> Settings:
    """Short polls, heartbeats and credential re-checks, private webhook targets allowed (the
    test receivers)."""
    values: dict[str, Any] = {
        "sse_poll_interval": 0.05,
        "sse_heartbeat_seconds": 0.3,
        "sse_retry_ms": 500,
        "sse_max_seconds": 30.0,
        "sse_auth_recheck_seconds": 0.2,
        "webhook_allow_private": True,
        "webhook_timeout_seconds": 2.0,
        "webhook_backoff_seconds": 0.05,
        "webhook_backoff_max_seconds": 0.2,
        "webhook_max_attempts": 5,
    }
    values.update(overrides)
    return dataclasses.replace(settings, **values)


@pytest.fixture
def live(engine: Engine, tmp_path: Path) -> Container:
    """The app on each backend with `fast_settings`."""
    return bootstrap(fast_settings(settings_for(engine, tmp_path)), engine=engine)


@pytest.fixture
def client(live: Container) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(live))


@dataclass(frozen=True)
class RunChain:
    worker_id: str
    version_id: str
    run_id: str
    position: int


def create_run_chain(container: Container, user: ApiUser, slug: str) -> RunChain:
    """A worker, a version and a user worker run, as `user`."""
    bus = container.bus
    worker_id = bus.handle(CreateWorker(name=slug, slug=slug, type="recognizer"), actor=user.actor).data[
        "worker_id"
    ]
    version_id = bus.handle(CreateWorkerVersion(worker_id=worker_id), actor=user.actor).data["version_id"]
    result = bus.handle(CreateUserRun(worker_version_id=version_id), actor=user.actor)
    assert result.position is not None
    return RunChain(worker_id, version_id, result.data["run_id"], result.position)


@dataclass
class SseMessage:
    id: str | None
    event: str | None
    data: str
    comments: list[str]

    @property
    def json(self) -> Any:
        return json.loads(self.data)


class SseClient:
    """A minimal, independent SSE parser over http.client (what a browser's EventSource does)."""

    def __init__(self, port: int, path: str, headers: dict[str, str], timeout: float = 10.0) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **headers})
        self.response = self.conn.getresponse()
        self.retry: int | None = None
        self.comments: list[str] = []
        self._fields: dict[str, list[str]] = {}
        #: messages read while waiting for a comment, handed out first by next_message
        self._pending: deque[SseMessage] = deque()

    def _next(self) -> SseMessage | str:
        """The next dispatched message or comment (`retry:` is collected on the way)."""
        while True:
            raw = self.response.fp.readline()
            if not raw:
                raise EOFError("stream closed")
            line = raw.decode().rstrip("\n").rstrip("\r")
            if line == "":
                fields, self._fields = self._fields, {}
                if "data" in fields:
                    return SseMessage(
                        fields.get("id", [None])[-1],
                        fields.get("event", [None])[-1],
                        "\n".join(fields["data"]),
                        list(self.comments),
                    )
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                return self.comments[-1]
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "retry":
                self.retry = int(value)
            else:
                self._fields.setdefault(name, []).append(value)

    def next_message(self) -> SseMessage:
        """The next dispatched message (comments are collected on the way)."""
        if self._pending:
            return self._pending.popleft()
        while not isinstance(read := self._next(), SseMessage):
            pass
        return read

    def wait_for_comment(self, text: str) -> None:
        """Until the comment `text` arrives (a heartbeat: the stream had nothing to send)."""
        while (read := self._next()) != text:
            if isinstance(read, SseMessage):
                self._pending.append(read)

    def messages_until(self, predicate: Any, limit: int = 1000) -> list[SseMessage]:
        seen = []
        for _ in range(limit):
            message = self.next_message()
            seen.append(message)
            if predicate(message):
                return seen
        raise AssertionError("predicate never matched")

    def close(self) -> None:
        # Shut the socket down so the server's next write fails at once.
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # Close the response's file too: it holds the descriptor open (makefile), and only a
        # closed descriptor makes the kernel reset the connection on the server's next write.
        self.response.close()
        self.conn.close()
