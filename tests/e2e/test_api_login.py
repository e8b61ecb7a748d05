"""Password sign-in (issue 10 B) as the unmodified official client does it, over real HTTP on
SQLite and PostgreSQL: RetrieveUser without a token (what `arkindex login` reads first),
`ArkindexClient.login(email, password)`, wrong passwords, the database-backed throttle; and
`worker-runs users set-password`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
import requests
import sqlalchemy as sa
from arkindex import ArkindexClient
from arkindex.exceptions import ErrorResponse
from click.testing import CliRunner

from api.users.passwords import PasswordStore
from api.users.resources import client_address
from api.users.sign_in_tables import user_passwords
from commands.sign_in_messages import RecordPasswordSet
from eventstore.engine import make_engine
from eventstore.schema import events
from tests.api_support import ApiUser, ServerThread, make_user
from worker_runs.bootstrap import Container
from worker_runs.cli import main

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(container: Container, server: ServerThread) -> ApiUser:
    user = make_user(container, "alice")
    PasswordStore(container.engine).set(user.user_id, PASSWORD)
    container.bus.handle(RecordPasswordSet(user_id=user.user_id))
    return user


def _error(call: Callable[[], object]) -> tuple[int, Any]:
    with pytest.raises(ErrorResponse) as error:
        call()
    return error.value.status_code, error.value.content


def test_login_as_the_cli_does_it(server: ServerThread, alice: ApiUser, container: Container) -> None:
    client = ArkindexClient(base_url=server.url)  # no token, as `arkindex login` starts
    # has_oidc_feature() in arkindex-cli 0.5: RetrieveUser, then `features` from the 401 body.
    status, body = _error(lambda: client.request("RetrieveUser"))
    assert status == 401 and body["features"] == {"oidc": False}

    answer = client.login("Alice@Example.org", PASSWORD)  # emails are matched case-insensitively
    assert answer["display_name"] == "alice" and answer["id"] == alice.user_id
    token = answer["auth_token"]
    assert client.request("RetrieveUser")["id"] == alice.user_id  # the client now uses the new token
    with_token = ArkindexClient(token=token, base_url=server.url)
    assert with_token.request("RetrieveUser")["email"] == "alice@example.org"
    # The username works too; each sign-in issues its own token.
    assert ArkindexClient(base_url=server.url).login("alice", PASSWORD)["auth_token"] != token

    # The hash is kept out of the event log: only the fact that the password changed is there.
    with container.engine.connect() as conn:
        stored = conn.execute(sa.select(user_passwords.c.password_hash)).scalar_one()
        payloads = " ".join(str(p) for p in conn.execute(sa.select(events.c.payload)).scalars())
        kinds = set(conn.execute(sa.select(events.c.event_type)).scalars())
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "argon2" not in payloads and PASSWORD not in payloads and "UserPasswordSet" in kinds


def test_wrong_passwords_say_nothing_more_and_are_throttled(
    server: ServerThread, alice: ApiUser, container: Container,
) -> None:
    client = ArkindexClient(base_url=server.url)
    make_user(container, "bob")  # a user without a password cannot sign in either
    answers = []
    for email, password in (
        ("alice@example.org", "wrong password"), ("nobody@example.org", PASSWORD), ("bob@example.org", ""),
    ):
        status, body = _error(lambda e=email, p=password: client.login(e, p))
        assert status == 400, body
        answers.append(body)
    # The empty password is refused by validation; the other two answers are identical.
    assert answers[0] == answers[1]
    assert answers[0]["errors"] == [{"attr": None, "code": "invalid",
                                     "detail": "Unable to sign in with this email and password."}]

    for _ in range(4):  # 5 failures on alice's account within the window (one above)
        _error(lambda: client.login("alice@example.org", "still wrong"))
    status, body = _error(lambda: client.login("alice@example.org", PASSWORD))
    assert status == 429 and body["errors"][0]["code"] == "throttled"
    raw = requests.post(server.url + "api/v1/user/login/",
                        json={"email": "alice@example.org", "password": PASSWORD}, timeout=30)
    assert raw.status_code == 429 and 0 < int(raw.headers["Retry-After"]) <= 15 * 60
    # Other accounts are not blocked by alice's failures.
    bob = make_user(container, "carol")
    PasswordStore(container.engine).set(bob.user_id, PASSWORD)
    assert client.login("carol@example.org", PASSWORD)["id"] == bob.user_id


def test_set_password_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line on the embedded default (its own SQLite file)."""
    monkeypatch.delenv("WORKER_RUNS_DATABASE_URL", raising=False)
    monkeypatch.setenv("WORKER_RUNS_HOME", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["users", "create", "Dora", "--email", "dora@example.org"]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'worker-runs.db'}")
    with engine.connect() as conn:
        user_id = conn.execute(sa.select(events.c.stream_id)).scalars().first().removeprefix("user-")
    result = runner.invoke(main, ["users", "set-password", "Dora", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "at least 8 characters" in result.output
    result = runner.invoke(main, ["users", "set-password", "Dora"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password set for Dora." in result.output and PASSWORD not in result.output
    assert PasswordStore(engine).verify(user_id, PASSWORD)
    assert not PasswordStore(engine).verify(user_id, "wrong password")
    result = runner.invoke(main, ["users", "set-password", "nobody", "--password-stdin"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code == 1 and "No user named 'nobody'" in result.output


@pytest.mark.parametrize("peer, forwarded, counted", [
    ("8.8.4.4", None, "8.8.4.4"),
    ("8.8.4.4", "198.51.100.1", "8.8.4.4"),  # a client's own claim is ignored
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),  # behind the proxy: the address it appended
    ("10.0.0.5", "192.0.2.9, 198.51.100.1", "198.51.100.1"),  # only the proxy's own entry counts
    ("127.0.0.1", None, "127.0.0.1"),
])
def test_failures_are_counted_against_the_client_address(
    peer: str, forwarded: str | None, counted: str,
) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    req = falcon.testing.create_req(remote_addr=peer, headers=headers)
    assert client_address(req) == counted
