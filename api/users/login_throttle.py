"""A database-backed throttle on failed sign-ins (issue 10 B), shared by every API process.

Fixed windows per key: after `limit` failures within `window` seconds, that key is refused
(429 with Retry-After) until the window ends, even with the right password, so guessing is
bounded per account (key `email:…`) and per client address (key `ip:…`, a higher limit: many
users may share one address). A successful sign-in clears the account's key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.users.sign_in_tables import login_failures
from eventstore.log_consumer import dialect_insert


@dataclass(frozen=True)
class Limit:
    prefix: str
    limit: int


EMAIL = Limit("email", 5)
ADDRESS = Limit("ip", 50)
WINDOW_SECONDS = 15 * 60


def _now() -> datetime:
    return datetime.now(UTC)


class LoginThrottle:
    def __init__(
        self, engine: Engine, *, window_seconds: int = WINDOW_SECONDS, clock: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    def retry_after(self, keys: dict[str, Limit]) -> int | None:
        """Seconds until these keys may try again, or None when none of them is blocked."""
        now = self.clock()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(login_failures).where(login_failures.c.key.in_(list(keys)))
            ).mappings().all()
        waits = [
            (row["window_started_at"] + self.window - now).total_seconds()
            for row in rows
            if row["failures"] >= keys[row["key"]].limit and row["window_started_at"] + self.window > now
        ]
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, keys: dict[str, Limit]) -> None:
        """Count one failure on each key, atomically (a new window when the last one ended)."""
        now = self.clock()
        insert = dialect_insert(self.engine, login_failures)
        expired = login_failures.c.window_started_at <= now - self.window
        statement = insert.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": sa.case((expired, 1), else_=login_failures.c.failures + 1),
                "window_started_at": sa.case(
                    (expired, insert.excluded.window_started_at), else_=login_failures.c.window_started_at
                ),
            },
        )
        with self.engine.begin() as conn:
            rows = [{"key": key, "failures": 1, "window_started_at": now} for key in sorted(keys)]
            conn.execute(statement, rows)

    def succeeded(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.key == key))
