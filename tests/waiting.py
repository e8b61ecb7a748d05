"""Waiting for a condition another thread or process makes true, instead of sleeping for a
guessed duration: returns as soon as it holds, and says so (or not) at the deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def wait_until(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """True as soon as `condition()` is true; False if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def stop_process(process: subprocess.Popen[Any], timeout: float, *, group: bool = False) -> None:
    """SIGTERM (the servers' graceful stop), then SIGKILL (to its whole process group with
    `group`) if it has not exited within `timeout` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()


@contextmanager
def running(run: Callable[[threading.Event], object], *, timeout: float = 10.0,
            name: str | None = None) -> Iterator[threading.Thread]:
    """`run(stop)` (a relay's loop) in a thread while the block runs; then `stop` is set and
    the thread must end within `timeout` seconds."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(stop,), name=name)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout)
        assert not thread.is_alive(), f"{thread.name} did not stop"
