"""User passwords (issue 10 B): argon2id hashes (argon2-cffi's defaults, RFC 9106's
recommended profile), in `user_passwords`. The clear password is never stored nor logged."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from api.users.sign_in_tables import user_passwords

MIN_LENGTH = 8
MAX_LENGTH = 1024


class WeakPassword(ValueError):
    pass


class PasswordStore:
    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        # Verified when the user has no password, so that "no such user" and "wrong password"
        # take the same time: a caller cannot tell which emails have an account.
        self._decoy = self.hasher.hash("decoy password, never accepted")

    def set(self, user_id: str, password: str) -> None:
        if len(password) < MIN_LENGTH:
            raise WeakPassword(f"A password needs at least {MIN_LENGTH} characters.")
        if len(password) > MAX_LENGTH:
            raise WeakPassword(f"A password has at most {MAX_LENGTH} characters.")
        values = {"password_hash": self.hasher.hash(password), "updated_at": datetime.now(UTC)}
        with self.engine.begin() as conn:
            updated = conn.execute(
                user_passwords.update().where(user_passwords.c.user_id == user_id).values(**values)
            ).rowcount
            if not updated:
                conn.execute(user_passwords.insert().values(user_id=user_id, **values))

    def verify(self, user_id: str | None, password: str) -> bool:
        stored = None
        if user_id is not None:
            with self.engine.connect() as conn:
                stored = conn.execute(
                    sa.select(user_passwords.c.password_hash).where(user_passwords.c.user_id == user_id)
                ).scalar_one_or_none()
        try:
            self.hasher.verify(stored or self._decoy, password[:MAX_LENGTH])
        except (VerificationError, InvalidHashError):
            return False
        if stored is None:
            return False
        if self.hasher.check_needs_rehash(stored):
            # Parameters were raised since this hash was made: upgrade it now that we know the password.
            self.set(user_id, password)  # type: ignore[arg-type]  # stored implies user_id
        return True
