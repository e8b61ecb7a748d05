"""deploy/nginx.conf (the production proxy of docker-compose.yml) in front of a real `worker-runs api`.

Issue 12: an exposed gunicorn is starved by a few dozen slow clients. Through the proxy, slow
clients cost nginx a connection, not an API thread: with more slow sockets open than the API has
threads, normal requests still answer at once; oversized bodies are refused by nginx; the live
event stream passes unbuffered.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from worker_runs.ports import free_port, wait_for_http
from worker_runs.users import create_user_with_token, sqlite_home

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
API_THREADS = 2
SLOW_CLIENTS = 40


def _wait_until_up(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    wait_for_http(url, process=process, what=what,
                  diagnostics=lambda: repr(process.stderr.read() if process.stderr else ""))


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    if process.stderr:
        process.stderr.close()


def proxy_config(api_port: int, proxy_port: int, prefix: Path) -> str:
    """The shipped file, pointed at this test's API and port (nothing else changed)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "server api:8000;": f"server 127.0.0.1:{api_port};",
        "listen 8080;": f"listen 127.0.0.1:{proxy_port};",
        "worker_processes auto;": f"worker_processes 1;\npid {prefix / 'nginx.pid'};",
        "error_log /dev/stderr warn;": f"error_log {prefix / 'error.log'} warn;",
    }
    for old, new in replacements.items():
        assert old in conf, f"deploy/nginx.conf no longer has {old!r}"
        conf = conf.replace(old, new)
    return conf


@dataclass(frozen=True)
class Stack:
    proxy: str
    api: str
    token: str


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """gunicorn with API_THREADS threads behind nginx."""
    container = sqlite_home(tmp_path, "api.db")
    database_url = container.settings.database_url
    token = create_user_with_token(container.bus, "alice").token
    container.engine.dispose()

    api_port, proxy_port = free_port(), free_port()
    env = {**os.environ, "WORKER_RUNS_HOME": str(tmp_path), "WORKER_RUNS_DATABASE_URL": database_url,
           "WORKER_RUNS_READ_WAIT": "0.2", "WORKER_RUNS_SSE_HEARTBEAT": "0.2"}
    api = subprocess.Popen(
        [sys.executable, "-m", "worker_runs.cli", "api", "--port", str(api_port), "--workers", "1",
         "--threads", str(API_THREADS)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    prefix.chmod(0o777)  # nginx's workers (nobody, when run as root) keep their temp files here
    (prefix / "nginx.conf").write_text(proxy_config(api_port, proxy_port, prefix))
    nginx = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{api_port}/livez", api, "the API")
        _wait_until_up(f"http://127.0.0.1:{proxy_port}/livez", nginx, "nginx")
        yield Stack(f"http://127.0.0.1:{proxy_port}", f"http://127.0.0.1:{api_port}", token)
    finally:
        _stop(nginx)
        _stop(api)


def _slow_clients(base: str, count: int) -> list[socket.socket]:
    """Connections that send the start of a request and then nothing (slowloris)."""
    host, port = base.removeprefix("http://").split(":")
    sockets = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"POST /api/v1/workers/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na")
        sockets.append(s)
    return sockets


def test_slow_clients_do_not_starve_the_api_behind_the_proxy(stack: Stack) -> None:
    base, token = stack.proxy, stack.token
    slow = _slow_clients(base, SLOW_CLIENTS)  # 20 times the API's threads
    try:
        for _ in range(10):
            started = time.monotonic()
            answer = requests.get(f"{base}/livez", timeout=5)
            assert answer.status_code == 200
            assert time.monotonic() - started < 2
        created = requests.post(
            f"{base}/api/v1/workers/", json={"name": "OCR", "type": "ocr"},
            headers={"Authorization": f"Token {token}"}, timeout=10,
        )
        assert created.status_code == 201, created.text
    finally:
        for s in slow:
            s.close()


def test_the_proxy_refuses_oversized_bodies_itself(stack: Stack) -> None:
    base, token = stack.proxy, stack.token
    answer = requests.post(
        f"{base}/api/v1/workers/", data=b"x" * (1024 * 1024 + 1),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"}, timeout=10,
    )
    assert answer.status_code == 413


def test_the_live_event_stream_passes_unbuffered(stack: Stack) -> None:
    base, token = stack.proxy, stack.token
    started = time.monotonic()
    with requests.get(f"{base}/api/v1/events/stream", headers={"Authorization": f"Token {token}"},
                      stream=True, timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        first = next(stream.iter_content(chunk_size=None))
    assert first  # the stream's first frame (retry/heartbeat) arrives while the stream is open
    assert time.monotonic() - started < 5


def test_control_the_same_slow_clients_starve_an_exposed_gunicorn(stack: Stack) -> None:
    """Why the proxy is there (and proof the first test can fail): straight at gunicorn, the
    same slow clients hold its threads and normal requests time out."""
    slow = _slow_clients(stack.api, SLOW_CLIENTS)
    timed_out = 0
    try:
        for _ in range(3):
            try:
                requests.get(f"{stack.api}/livez", timeout=2)
            except requests.Timeout:
                timed_out += 1
    finally:
        for s in slow:
            s.close()
    assert timed_out == 3
