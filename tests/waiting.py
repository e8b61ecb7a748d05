"""Waiting for a condition another thread or process makes true, instead of sleeping for a
guessed duration: returns as soon as it holds, and says so (or not) at the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """True as soon as `condition()` is true; False if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True
