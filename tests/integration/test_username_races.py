"""RegisterUser claims its username without looking it up first: the claim in the append is
the check. Under a race exactly one registration wins, every other one gets the named
UsernameTaken naming the winner (never a generic conflict), and a repeated command id gets the
first answer."""

from __future__ import annotations

import uuid

import pytest

from commands import messages as m
from commands.bus import CommandResult
from domain.errors import UsernameTaken
from tests.race_support import run_concurrently
from worker_runs.bootstrap import Container

RACERS = 16


def _one_winner(container: Container) -> None:
    for r in range(3):
        name = f"Carol{r}"
        outcomes = run_concurrently(RACERS, lambda _i, n=name: container.bus.handle(m.RegisterUser(n)))
        winners = [o.value for o in outcomes if o.error is None]
        assert len(winners) == 1
        errors = [o.error for o in outcomes if o.error is not None]
        assert all(isinstance(e, UsernameTaken) for e in errors), errors
        assert {e.existing_id for e in errors if isinstance(e, UsernameTaken)} == {winners[0].data["user_id"]}
        # Case-insensitive, like the alias, and still refused afterwards.
        with pytest.raises(UsernameTaken) as late:
            container.bus.handle(m.RegisterUser(name.lower()))
        assert late.value.existing_id == winners[0].data["user_id"]


def _same_command_id(container: Container) -> None:
    command_id = str(uuid.uuid4())
    outcomes = run_concurrently(RACERS, lambda _i: container.bus.handle(
        m.RegisterUser("dave"), command_id=command_id))
    assert [o.error for o in outcomes if o.error is not None] == []
    results: list[CommandResult] = [o.value for o in outcomes]
    assert sum(not r.replayed for r in results) == 1
    assert {r.data["user_id"] for r in results} == {results[0].data["user_id"]}


@pytest.mark.postgres
def test_racing_registrations_of_one_username_postgres(pg_race_container: Container) -> None:
    _one_winner(pg_race_container)
    _same_command_id(pg_race_container)


def test_racing_registrations_of_one_username_sqlite(sqlite_race_container: Container) -> None:
    _one_winner(sqlite_race_container)
    _same_command_id(sqlite_race_container)
