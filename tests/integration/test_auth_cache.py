"""The authentication cache (api/auth.py): a known token costs no query; a revocation made in
this process ends it at once, one made by another process within `recheck_seconds`."""

from __future__ import annotations

import sqlalchemy as sa

from api.auth import Authenticator
from eventstore import SqlEventStore
from tests.api_support import make_user, revoke
from worker_runs.bootstrap import Container


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_cached_token_costs_no_query_until_the_recheck_interval(container: Container) -> None:
    alice = make_user(container, "alice")
    clock = Clock()
    auth = Authenticator(container.store, recheck_seconds=1.0, clock=clock)
    assert auth.authenticate(f"Token {alice.token}") is not None
    seen = _statements(container.engine)
    for _ in range(5):
        identity = auth.authenticate(f"Token {alice.token}")
        assert identity is not None and identity.actor.user_id == alice.user_id
    assert seen == []
    clock.now += 1.5
    assert auth.authenticate(f"Token {alice.token}") is not None
    # One look at other processes' user events per interval (SQLite adds its own BEGIN).
    assert [q for q in seen if q != "BEGIN"] == [q for q in seen if "FROM events" in q]
    assert len([q for q in seen if "FROM events" in q]) == 1


def test_a_revocation_by_this_process_ends_the_token_at_once(container: Container) -> None:
    alice = make_user(container, "alice")
    auth = Authenticator(container.store, recheck_seconds=3600.0, clock=Clock())
    assert auth.authenticate(f"Token {alice.token}") is not None
    revoke(container, alice)  # through the bus of the same store: its listener drops the entry
    assert auth.authenticate(f"Token {alice.token}") is None


def test_a_revocation_by_another_process_ends_the_token_within_the_interval(container: Container) -> None:
    alice, bob = make_user(container, "alice"), make_user(container, "bob")
    clock = Clock()
    # Another process: its own store over the same database, so no listener of ours hears it.
    elsewhere = Authenticator(SqlEventStore(container.engine), recheck_seconds=1.0, clock=clock)
    assert elsewhere.authenticate(f"Token {alice.token}") is not None
    assert elsewhere.authenticate(f"Token {bob.token}") is not None
    revoke(container, alice)
    clock.now += 1.5
    assert elsewhere.authenticate(f"Token {alice.token}") is None
    assert elsewhere.authenticate(f"Token {bob.token}") is not None  # only alice's entry dropped
