"""`worker_runs.ports.wait_for_port`, the one wait-for-a-listener loop of the scripts, the bench
and the tests: returns once something listens, and says why when nothing does."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from worker_runs.ports import PortNotOpen, free_port, wait_for_port


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
