"""The API over real HTTP on loopback for the bench: the app of api/app.py served by `serve`'s
own server (worker_runs/http_server.py), and a user with an API token to call it as."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

import requests

from api.app import create_app
from domain.actor import Actor
from worker_runs.bootstrap import Container
from worker_runs.http_server import HttpServer
from worker_runs.users import create_user_with_token


@dataclass(frozen=True)
class ApiUser:
    user_id: str
    token: str

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id)


def api_user(container: Container, username: str) -> ApiUser:
    """A user and an API token, through the bus (set-up, not timed)."""
    created = create_user_with_token(container.bus, username, label="bench")
    return ApiUser(created.user_id, created.token)


class LoopbackServer:
    """create_app(container) served on 127.0.0.1:<free port> from a background thread."""

    def __init__(self, container: Container, threads: int = 16) -> None:
        self.server = HttpServer(create_app(container), "127.0.0.1", 0, threads=threads)
        host, port = self.server.address
        self.url = f"http://{host}:{port}"
        self._serving = self.server.in_thread()

    def __enter__(self) -> LoopbackServer:
        self._serving.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._serving.__exit__(kind, exc, tb)

    def session(self, user: ApiUser) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {user.token}"
        return session

    def call(self, session: requests.Session, method: str, path: str, **kwargs: Any) -> Any:
        response = session.request(method, self.url + path, timeout=120, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None
