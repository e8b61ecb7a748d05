"""Which WSGI server should `serve` use? waitress (today), cheroot and granian, side by side
(issue 12, item 3). Not a test: a measurement, printed as a table.

The same app (SQLite, the embedded default's container) behind each server on loopback, each
with 32 application threads and a 2048 backlog, measured in interleaved repetitions (the
server that starts a repetition rotates) and reported as medians:

- `keep-alive`: 16 clients, each on one keep-alive connection, `GET /api/v1/user/` (token auth)
  for a few seconds: requests/s, p50 and p99;
- `burst`: 256 clients released together, each opening a new connection for one request:
  connections reset or refused, and the slowest answer;
- `slowloris`: 64 sockets that send a header line every second and never finish, beside one
  normal client: its p99.

    pip install cheroot granian
    python scripts/compare_wsgi_servers.py [--seconds 4] [--repetitions 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from worker_runs.ports import free_port, wait_for_port

THREADS = 32
BACKLOG = 2048

APP_MODULE = '''
import os
from pathlib import Path
from api.app import create_app
from eventstore.engine import make_engine
from worker_runs.bootstrap import bootstrap
from worker_runs.settings import Settings
url = os.environ["WORKER_RUNS_DATABASE_URL"]
app = create_app(bootstrap(Settings(home=Path(os.environ["WORKER_RUNS_HOME"]), database_url=url),
                           engine=make_engine(url)))
'''


@contextmanager
def waitress(app: Any) -> Iterator[int]:
    from worker_runs.http_server import HttpServer

    with HttpServer(app, "127.0.0.1", 0, threads=THREADS).in_thread() as port:
        yield port


@contextmanager
def cheroot(app: Any) -> Iterator[int]:
    from cheroot import wsgi

    port = free_port()
    server = wsgi.Server(("127.0.0.1", port), app, numthreads=THREADS, request_queue_size=BACKLOG,
                         timeout=60)
    thread = threading.Thread(target=server.start, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield port
    finally:
        server.stop()
        thread.join(10)


@contextmanager
def granian(app: Any, home: Path) -> Iterator[int]:
    port = free_port()
    (home / "granian_app.py").write_text(APP_MODULE)
    env = {**os.environ, "PYTHONPATH": f"{home}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--blocking-threads", str(THREADS), "--backlog", str(BACKLOG),
         "--log-level", "warning", "granian_app:app"],
        env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(30)


def keep_alive(port: int, token: str, seconds: float, clients: int = 16) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = threading.Barrier(clients)
    deadline = [0.0]

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        start.wait()
        while time.monotonic() < deadline[0]:
            t0 = time.perf_counter()
            try:
                conn.request("GET", "/api/v1/user/", headers={"Authorization": f"Token {token}"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if ok:
                mine.append(time.perf_counter() - t0)
            else:
                with lock:
                    errors += 1
        with lock:
            latencies.extend(mine)

    deadline[0] = time.monotonic() + seconds + 0.2
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    if not latencies:  # nothing answered: say so, do not crash
        return {"req/s": 0.0, "p50 ms": float("nan"), "p99 ms": float("nan"), "errors": errors}
    return {"req/s": len(latencies) / seconds, "p50 ms": 1000 * latencies[len(latencies) // 2],
            "p99 ms": 1000 * latencies[int(len(latencies) * 0.99)], "errors": errors}


def burst(port: int, token: str, clients: int = 256) -> dict[str, float]:
    start = threading.Barrier(clients)
    failures = 0
    slowest = 0.0
    lock = threading.Lock()

    def client() -> None:
        nonlocal failures, slowest
        start.wait()
        t0 = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/v1/user/", headers={"Authorization": f"Token {token}"})
            ok = conn.getresponse().status == 200
            conn.close()
        except OSError:
            ok = False
        with lock:
            failures += not ok
            slowest = max(slowest, time.perf_counter() - t0)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"failed": failures, "slowest ms": 1000 * slowest}


def slowloris(port: int, token: str, seconds: float, sockets: int = 64) -> dict[str, float]:
    stop = threading.Event()
    held: list[socket.socket] = []
    for _ in range(sockets):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /api/v1/user/ HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        except OSError:
            pass

    def drip() -> None:
        while not stop.wait(1.0):
            for sock in held:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        figures = keep_alive(port, token, seconds, clients=1)
    finally:
        stop.set()
        for sock in held:
            sock.close()
    return {"normal p99 ms": figures["p99 ms"], "normal errors": figures["errors"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()

    from api.app import create_app
    from worker_runs.users import create_user_with_token, sqlite_home

    home = Path(tempfile.mkdtemp(prefix="wsgi-compare-"))
    url = f"sqlite:///{home / 'worker-runs.db'}"
    os.environ.update({"WORKER_RUNS_HOME": str(home), "WORKER_RUNS_DATABASE_URL": url})
    container = sqlite_home(home)
    token = create_user_with_token(container.bus, "bench").token
    app = create_app(container)

    servers: dict[str, Callable[[], Any]] = {
        "waitress": lambda: waitress(app), "cheroot": lambda: cheroot(app),
        "granian": lambda: granian(app, home),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    names = list(servers)
    for rep in range(args.repetitions):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            with servers[name]() as port:
                keep_alive(port, token, 0.5)  # warm-up
                figures = keep_alive(port, token, args.seconds)
                figures.update(burst(port, token))
                figures.update(slowloris(port, token, args.seconds))
            results[name].append(figures)
            line = ", ".join(f"{k} {v:.1f}" for k, v in figures.items())
            print(f"rep {rep + 1} {name}: {line}", flush=True)

    keys = list(results[names[0]][0])
    print(f"\nmedians of {args.repetitions} interleaved repetitions, {os.cpu_count()} CPUs, "
          f"{THREADS} threads each")
    print("| server | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name in names:
        print(f"| {name} | " + " | ".join(
            f"{statistics.median(r[k] for r in results[name]):.1f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
