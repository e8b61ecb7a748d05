"""A user with an API token in one call: the CLI's `users create`, the bench, the scripts and
the tests register users this way (the token is returned in clear once; only its hash is stored)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from commands.bus import CommandBus
from commands.messages import IssueToken, RegisterUser
from commands.tokens import generate_token, hash_token
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.settings import Settings


@dataclass(frozen=True)
class NewUser:
    user_id: str
    #: the clear token, to send as `Authorization: Token <token>`
    token: str
    token_id: str


def create_user_with_token(
    bus: CommandBus, username: str, email: str | None = None, *, admin: bool = False, label: str = "",
) -> NewUser:
    """Register `username` and issue it a new API token."""
    user_id = bus.handle(RegisterUser(username, email, admin)).data["user_id"]
    token = generate_token()
    issued = bus.handle(IssueToken(user_id=user_id, token_hash=hash_token(token), label=label))
    return NewUser(user_id, token, issued.data["token_id"])


def sqlite_home(home: Path, database: str = "worker-runs.db") -> Container:
    """A container on a migrated SQLite file in `home` (its URL: `container.settings.database_url`)."""
    url = f"sqlite:///{home / database}"
    engine = make_engine(url)
    upgrade(engine)
    return bootstrap(Settings(home=home, database_url=url), engine=engine)
