"""Celery's "running as root" warning, said once and plainly instead.

A Celery worker started as root prints a multi-line SecurityWarning ("absolutely not
recommended!"). Its point: a task runs with the worker's rights, so whoever can put messages
on the broker can make root run them; with pickle that is arbitrary code, so Celery refuses to
start at all. worker-runs' workers accept JSON only (tasks/config.py), and their tasks only
read the event store and write read models, so the risk left is running a network service as
root at all. `serve` starts such a worker; a newcomer following the README as root should not
be frightened by a wall of text, nor told nothing.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable

log = logging.getLogger("worker_runs.worker")

ROOT_NOTICE = (
    "running as root: the Celery worker only accepts JSON messages (never pickled code) from "
    "worker-runs' own broker, so Celery's root warning is silenced; still, prefer an ordinary user "
    "(or the container's) outside a throw-away machine"
)


def say_once_when_root(accept_content: Iterable[str]) -> bool:
    """When running as root with a JSON-only worker: silence Celery's warning, log one line.
    Returns whether it did (with pickle accepted, Celery's own refusal stands)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    if any(content in ("pickle", "application/x-python-serialize") for content in accept_content):
        return False
    from celery.platforms import SecurityWarning

    warnings.filterwarnings("ignore", category=SecurityWarning)
    log.warning(ROOT_NOTICE)
    return True
