"""Without a ping per checkout, a pooled connection the server closed is still never handed out
(eventstore/engine.py): found by its readable socket, replaced without an error."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

pytestmark = pytest.mark.postgres


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_a_pooled_connection_whose_backend_was_terminated_is_replaced(pg_engine: Engine) -> None:
    first = _pid(pg_engine)
    assert _pid(pg_engine) == first  # pooled and reused while healthy
    # From outside the pool (any pooled connection could be the one terminated).
    # Autocommit: pg_stat_activity is a snapshot taken once per transaction.
    admin = sa.create_engine(pg_engine.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as other:
        assert other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
        # Until the backend has exited, its connection may look idle (as with any check).
        deadline = time.monotonic() + 10
        alive = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
        while other.execute(alive, {"p": first}).scalar():
            assert time.monotonic() < deadline, "the backend did not exit"
            time.sleep(0.05)
    admin.dispose()
    try:
        replaced = _pid(pg_engine)
    except sa.exc.DBAPIError as exc:
        pytest.fail(f"a dead pooled connection was handed out: {exc}")
    assert replaced != first
