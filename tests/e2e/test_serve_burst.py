"""`worker-runs serve` takes a burst of clients connecting at the same instant (issue 12, item 3).

On wsgiref (listen backlog 5) 55 % of 64 simultaneous connections were reset. `serve` now runs
waitress with a backlog of 2048: 256 clients released by one barrier each open a connection,
send a request and read a complete 200 answer; not one is reset or refused. A slow client
(sending its headers a byte at a time) meanwhile holds no server thread: with 2 threads, eight
such clients do not delay a normal request.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_serve import Served

CLIENTS = 256


@pytest.fixture
def served_small(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path, extra_args=["--threads", "4"])
    try:
        server.wait_until_up()
        yield server
    finally:
        server.terminate()


def _request(port: int, barrier: threading.Barrier, results: list[str], index: int) -> None:
    try:
        barrier.wait(30)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        results[index] = "ok" if data.startswith(b"HTTP/1.1 200") and data.endswith(b'{"status": "ok"}') \
            else f"bad answer: {data[:80]!r}"
    except OSError as exc:
        results[index] = f"{type(exc).__name__}: {exc}"


def test_simultaneous_clients_are_all_served_without_a_reset(served_small: Served) -> None:
    results = [""] * CLIENTS
    barrier = threading.Barrier(CLIENTS)
    threads = [threading.Thread(target=_request, args=(served_small.port, barrier, results, i))
               for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    failures = [r for r in results if r != "ok"]
    assert not failures, f"{len(failures)}/{CLIENTS} failed, e.g. {failures[:3]}"


def test_slow_clients_hold_no_server_thread(served_small: Served) -> None:
    slow = []
    for _ in range(8):  # twice the server's 4 threads
        sock = socket.create_connection(("127.0.0.1", served_small.port), timeout=10)
        sock.sendall(b"GET /livez HTTP/1.1\r\nHo")  # ... and the rest never comes
        slow.append(sock)
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", served_small.port), timeout=10) as sock:
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 2.0
    finally:
        for sock in slow:
            sock.close()
