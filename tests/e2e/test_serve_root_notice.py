"""`worker-runs serve` as root (the README's first steps on a fresh machine or in a container):
one plain line about root, never Celery's multi-line "absolutely not recommended!" warning."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.ui_support import Service
from worker_runs.root_notice import ROOT_NOTICE, say_once_when_root

pytestmark = pytest.mark.slow


def test_serve_says_once_and_plainly_what_running_as_root_means(tmp_path: Path) -> None:
    service = Service(tmp_path).start()
    try:
        deadline = time.monotonic() + 60
        while "ready." not in service.log() and time.monotonic() < deadline:
            time.sleep(0.3)  # the Celery worker child starts after the API answers
        log = service.log()
        assert "ready." in log, log
    finally:
        service.stop()
    assert "superuser privileges" not in log
    assert "absolutely not recommended" not in log
    if os.geteuid() == 0:
        assert log.count(ROOT_NOTICE) == 1, log


def test_with_pickle_accepted_celery_keeps_its_own_refusal() -> None:
    assert say_once_when_root(["json", "pickle"]) is False
    assert say_once_when_root(["json"]) is (os.geteuid() == 0)
