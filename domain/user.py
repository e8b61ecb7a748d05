"""The `User` aggregate (stream `user-<uuid>`): identity, admin flag and API tokens."""

from __future__ import annotations

from domain.aggregate import Aggregate
from domain.errors import InvalidValue, NotFound
from domain.events import TokenIssued, TokenRevoked, UserPasswordSet, UserRegistered


def user_stream(user_id: str) -> str:
    return f"user-{user_id}"


class User(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.user_id = ""
        self.username = ""
        self.email: str | None = None
        self.is_admin = False
        self.tokens: dict[str, str] = {}  # token id -> token hash, active tokens only

    # --- decisions --------------------------------------------------------------------------

    def register(self, user_id: str, username: str, email: str | None, is_admin: bool) -> None:
        if self.exists:
            return  # registering the same user again decides nothing new
        if not username.strip():
            raise InvalidValue("A username is required.", field="username")
        self._record(UserRegistered(user_id=user_id, username=username, email=email, is_admin=is_admin))

    def issue_token(self, token_id: str, token_hash: str, label: str = "") -> None:
        self._require_exists()
        self._record(TokenIssued(user_id=self.user_id, token_id=token_id, token_hash=token_hash, label=label))

    def revoke_token(self, token_id: str) -> None:
        self._require_exists()
        if token_id not in self.tokens:
            return  # already revoked or never issued: nothing to decide
        self._record(TokenRevoked(user_id=self.user_id, token_id=token_id))

    def password_set(self) -> None:
        """Record that the password changed (the hash is stored apart, see UserPasswordSet)."""
        self._require_exists()
        self._record(UserPasswordSet(user_id=self.user_id))

    def has_active_token(self, token_hash: str) -> bool:
        return token_hash in self.tokens.values()

    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound("No such user.")

    # --- evolution --------------------------------------------------------------------------

    def when_UserRegistered(self, e: UserRegistered) -> None:
        self.user_id, self.username, self.email, self.is_admin = e.user_id, e.username, e.email, e.is_admin

    def when_TokenIssued(self, e: TokenIssued) -> None:
        self.tokens[e.token_id] = e.token_hash

    def when_TokenRevoked(self, e: TokenRevoked) -> None:
        self.tokens.pop(e.token_id, None)

    def when_UserPasswordSet(self, e: UserPasswordSet) -> None:
        pass  # nothing to decide on later: the hash is checked by api/users/passwords.py
