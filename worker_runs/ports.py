"""Local TCP ports for servers started by the CLI, the bench, the scripts and the tests: a free
one to listen on, and waiting until a server started elsewhere (a thread, a subprocess) listens
(`wait_for_port`) or answers (`wait_for_http`)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from typing import Any


class PortNotOpen(RuntimeError):
    """Nothing accepted connections on the port (or answered) in time, or its process exited first."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, *, host: str = "127.0.0.1", timeout: float = 60.0, interval: float = 0.1,
    process: subprocess.Popen[Any] | None = None, what: str = "server",
) -> None:
    """Return as soon as `host:port` accepts a connection. Raises `PortNotOpen` after `timeout`
    seconds, or as soon as `process` (the server's, when given) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=min(1.0, timeout)).close()
            return
        except OSError:
            pass
        if process is not None and (code := process.poll()) is not None:
            raise PortNotOpen(f"{what} exited (code {code}) before listening on {host}:{port}")
        if time.monotonic() >= deadline:
            raise PortNotOpen(f"{what} did not listen on {host}:{port} within {timeout:g} s")
        time.sleep(interval)


def wait_for_http(
    url: str, *, timeout: float = 60.0, interval: float = 0.2, process: subprocess.Popen[Any] | None = None,
    what: str = "server", diagnostics: Callable[[], str] | None = None,
) -> None:
    """Return as soon as a GET of `url` answers 200. Raises `PortNotOpen` (with `diagnostics()`,
    such as the server's log, when given) after `timeout` seconds, or as soon as `process` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset, timed out, or an HTTP error status
            pass
        problem = None
        if process is not None and (code := process.poll()) is not None:
            problem = f"{what} exited (code {code}) before answering {url}"
        elif time.monotonic() >= deadline:
            problem = f"{what} did not answer {url} within {timeout:g} s"
        if problem is not None:
            raise PortNotOpen(problem + (f":\n{diagnostics()}" if diagnostics else ""))
        time.sleep(interval)
