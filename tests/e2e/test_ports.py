"""`worker_runs.ports.wait_for_port`, the one wait-for-a-listener loop of the scripts, the bench
and the tests: returns once something listens, and says why when nothing does."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading

import pytest

from worker_runs.ports import PortNotOpen, free_port, wait_for_http, wait_for_port


def test_it_returns_once_something_listens() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        wait_for_port(listener.getsockname()[1], timeout=10)


def test_it_names_the_port_when_nothing_listens_by_the_deadline() -> None:
    port = free_port()
    with pytest.raises(PortNotOpen, match=f"redis-server did not listen on 127.0.0.1:{port}"):
        wait_for_port(port, timeout=0.3, what="redis-server")


def test_it_stops_waiting_when_the_server_process_has_exited() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait(30)
    with pytest.raises(PortNotOpen, match=r"gunicorn exited \(code 3\) before listening"):
        wait_for_port(free_port(), timeout=60, process=process, what="gunicorn")


class _Answers(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/livez" else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_wait_for_http_returns_once_the_url_answers_200() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        wait_for_http(f"http://127.0.0.1:{port}/livez", timeout=10)
        # An answer other than 200 is not ready: the deadline passes, naming the URL.
        with pytest.raises(PortNotOpen, match=f"api did not answer http://127.0.0.1:{port}/readyz"):
            wait_for_http(f"http://127.0.0.1:{port}/readyz", timeout=0.3, what="api")
    finally:
        server.shutdown()
        server.server_close()


def test_wait_for_http_reports_the_exited_process_with_its_diagnostics() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(4)"])
    process.wait(30)
    with pytest.raises(PortNotOpen, match=r"(?s)serve exited \(code 4\) before answering .*:\nthe log"):
        wait_for_http(f"http://127.0.0.1:{free_port()}/livez", process=process, what="serve",
                      diagnostics=lambda: "the log")
