"""Server-side sign-out: record revoked UI session ids, and look them up.

Two statements, kept here rather than in the resources so the HTTP code never holds SQL:
- `is_revoked`: one primary-key lookup, paid only by cookie-authenticated requests
  (api/auth.py); token-authenticated API calls never get here;
- `revoke`: an idempotent insert (signing out twice, or from two tabs, is not an error) and
  the purge of rows older than a session's lifetime, in one short write transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.ui.session import MAX_AGE_SECONDS
from api.ui.tables import ui_session_revocations
from eventstore.engine import writer
from eventstore.log_consumer import dialect_insert

T = ui_session_revocations


class SessionRevocations:
    def __init__(self, engine: Engine, *, max_age: int = MAX_AGE_SECONDS) -> None:
        self.engine = engine
        # Sign-out writes: on SQLite take the write lock at BEGIN rather than fail mid-way.
        self._writer = writer(engine)
        #: a revocation is useful as long as the session could still be presented
        self.max_age = max_age

    def is_revoked(self, session_id: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(T.c.session_id).where(T.c.session_id == session_id)).first()
        return found is not None

    def revoke(self, session_id: str, *, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with self._writer.begin() as conn:
            conn.execute(_insert_ignore(self.engine).values(session_id=session_id, revoked_at=now))
            # Opportunistic purge: a session revoked more than a lifetime ago was issued even
            # earlier, so its cookie has expired and is refused without this row.
            conn.execute(sa.delete(T).where(T.c.revoked_at < now - timedelta(seconds=self.max_age)))


def _insert_ignore(engine: Engine) -> Any:
    # ON CONFLICT DO NOTHING on both backends: no error, so no aborted PostgreSQL transaction.
    return dialect_insert(engine, T).on_conflict_do_nothing(index_elements=[T.c.session_id])
