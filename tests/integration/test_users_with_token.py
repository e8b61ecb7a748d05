"""`worker_runs.users`: a migrated SQLite home and a user with a token in one call, as the CLI's
`users create`, the bench, the scripts and the tests make them."""

from __future__ import annotations

from pathlib import Path

from worker_runs.users import create_user_with_token, sqlite_home


def test_the_token_authenticates_its_user_in_a_fresh_sqlite_home(tmp_path: Path) -> None:
    container = sqlite_home(tmp_path, "api.db")
    try:
        assert container.settings.database_url == f"sqlite:///{tmp_path / 'api.db'}"
        assert (tmp_path / "api.db").exists()
        created = create_user_with_token(container.bus, "alice", "alice@example.org", admin=True, label="t")
        other = create_user_with_token(container.bus, "bob")
        authenticator = container.web.authenticator
        identity = authenticator.authenticate(f"Token {created.token}")
        assert identity is not None
        assert (identity.actor.user_id, identity.actor.is_admin) == (created.user_id, True)
        assert (identity.username, identity.email) == ("alice", "alice@example.org")
        assert created.token != other.token and created.token_id != other.token_id
        assert authenticator.authenticate(f"Token {created.token}x") is None
    finally:
        container.engine.dispose()
