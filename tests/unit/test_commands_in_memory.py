"""Every command through the real bus on the in-memory event store: no database. The tests are
tests/integration/test_commands.py's (which runs them on SQLite and PostgreSQL), collected here
with the in-memory backend only; the registry check needs no store at all."""

from __future__ import annotations

import inspect

import pytest

from commands import COMMAND_HANDLERS, image_messages
from commands import element_tree_messages as tm
from commands import entity_messages as em
from commands import messages as m
from commands import retraction_messages as rm
from commands import sign_in_messages as sm
from tests.integration.test_commands import *  # noqa: F403 - its tests and fixtures


@pytest.fixture(params=["memory"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_every_command_has_a_handler() -> None:
    commands = {
        cls for module in (m, image_messages, tm, em, sm, rm)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, m.Command) and cls is not m.Command
    }
    assert commands == set(COMMAND_HANDLERS)
