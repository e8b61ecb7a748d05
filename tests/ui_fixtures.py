"""Module-scoped fixtures of the browser tests: a `worker-runs serve` with its users, Debian's
Chromium, the screenshots folder. Imported by name by each browser test module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.ui_support import (  # noqa: F401 - new_context: imported from here by the browser tests
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    CliUser,
    Service,
    Shots,
    create_user,
    new_context,
)

#: every user the browser tests sign in as: one per test, so their runs lists never mix
USERNAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-home")


@pytest.fixture(scope="module")
def users(home: Path) -> dict[str, CliUser]:
    return {name: create_user(home, name) for name in USERNAMES}


@pytest.fixture(scope="module")
def service(home: Path, users: dict[str, CliUser]) -> Iterator[Service]:
    running = Service(home).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary profile (user-data-dir).
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def shots_for(module: str) -> Shots:
    """Screenshots of one test module, in test-artifacts/ui/<module>/ (emptied first)."""
    shutil.rmtree(ARTIFACTS / module, ignore_errors=True)
    return Shots(ARTIFACTS / module)


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Shots:
    """The module's screenshots, in test-artifacts/ui/<its SHOTS>/."""
    return shots_for(request.module.SHOTS)
