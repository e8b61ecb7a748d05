"""Chunked request bodies are read to their end, with the size cap, or refused with 411; never
taken as empty (issue 12, item 6). Real servers, raw HTTP/1.1 with `Transfer-Encoding: chunked`:
gunicorn (`worker-runs api`, production), waitress (`serve`) and wsgiref (which cannot
dechunk: 411).

Before: Falcon read bodies by Content-Length only, so a chunked PATCH answered 200 and
changed nothing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import MAX_BODY_BYTES, create_app
from tests.api_support import ServerThread
from worker_runs.http_server import HttpServer
from worker_runs.ports import free_port, wait_for_port
from worker_runs.users import create_user_with_token, sqlite_home


def _chunked(method: str, path: str, token: str, body: bytes, chunk: int = 7) -> bytes:
    parts = [body[i:i + chunk] for i in range(0, len(body), chunk)]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    head = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Token {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    return head.encode() + encoded


def _exchange(port: int, request: bytes) -> tuple[int, dict[str, object]]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(request)
        except OSError:
            pass  # a server may answer 413 and close before reading everything
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2:]
        body = decoded
    return status, json.loads(body) if body.strip() else {}


def _get(port: int, path: str, token: str) -> dict[str, object]:
    request = (f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Token {token}\r\n"
               "Connection: close\r\n\r\n").encode()
    return _exchange(port, request)[1]


class Setup:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.container = sqlite_home(home, "api.db")
        self.database_url = self.container.settings.database_url
        alice = create_user_with_token(self.container.bus, "alice")
        self.user_id, self.token = alice.user_id, alice.token


def _gunicorn(setup: Setup) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "WORKER_RUNS_HOME": str(setup.home), "WORKER_RUNS_DATABASE_URL": setup.database_url,
           "WORKER_RUNS_READ_WAIT": "0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "worker_runs.cli", "api", "--port", str(port), "--workers", "1",
         "--threads", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_port(port, interval=0.2, process=process, what="gunicorn")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _waitress(setup: Setup) -> Iterator[int]:
    with HttpServer(create_app(setup.container), "127.0.0.1", 0, threads=2).in_thread() as port:
        yield port


@pytest.fixture(params=["gunicorn", "waitress"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Setup, int]]:
    setup = Setup(tmp_path)
    runner = _gunicorn if request.param == "gunicorn" else _waitress
    for port in runner(setup):
        yield setup, port


def _create_worker(setup: Setup) -> str:
    from commands.messages import CreateWorker
    from domain.actor import Actor

    result = setup.container.bus.handle(CreateWorker(name="before", slug="ocr", type="ocr"),
                                        actor=Actor(setup.user_id))
    for name in setup.container.runner.names:
        setup.container.runner.catch_up(name)
    return str(result.data["worker_id"])


def test_a_chunked_patch_is_applied(server: tuple[Setup, int]) -> None:
    setup, port = server
    worker_id = _create_worker(setup)
    status, body = _exchange(port, _chunked("PATCH", f"/api/v1/workers/{worker_id}/", setup.token,
                                            json.dumps({"name": "after, sent in chunks"}).encode()))
    assert status == 200, body
    for name in setup.container.runner.names:
        setup.container.runner.catch_up(name)
    assert _get(port, f"/api/v1/workers/{worker_id}/", setup.token)["name"] == "after, sent in chunks"


def test_a_chunked_body_over_the_cap_is_413(server: tuple[Setup, int]) -> None:
    setup, port = server
    big = json.dumps({"name": "x" * (MAX_BODY_BYTES + 10), "slug": "big", "type": "ocr"}).encode()
    status, _ = _exchange(port, _chunked("POST", "/api/v1/workers/", setup.token, big, chunk=65536))
    assert status == 413
    assert not [e for e in setup.container.store.iter_all() if e.event_type == "WorkerCreated"]


def test_a_server_that_cannot_dechunk_answers_411(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    worker_id = _create_worker(setup)
    with ServerThread(create_app(setup.container)) as running:  # wsgiref
        status, body = _exchange(running.port, _chunked("PATCH", f"/api/v1/workers/{worker_id}/", setup.token,
                                                        json.dumps({"name": "after"}).encode()))
    assert status == 411, body
    assert body["errors"][0]["code"] == "length_required"  # type: ignore[index]


def test_a_body_without_content_type_is_415_on_every_server(server: tuple[Setup, int]) -> None:
    setup, port = server
    body = json.dumps({"name": "OCR", "slug": "ocr", "type": "ocr"}).encode()
    request = (f"POST /api/v1/workers/ HTTP/1.1\r\nHost: x\r\nAuthorization: Token {setup.token}\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    status, answer = _exchange(port, request)
    assert status == 415, answer
    assert answer["errors"][0]["code"] == "unsupported_media_type"  # type: ignore[index]
    with ServerThread(create_app(setup.container)) as running:  # wsgiref: the same answer
        assert _exchange(running.port, request)[0] == 415
