"""SQLite refuses REPLACE on the event store's append-only tables (issue 12, item 8).

`REPLACE INTO events` and `INSERT OR REPLACE INTO stream_aliases` delete the colliding row
without firing the DELETE triggers: they rewrote an event and repointed a token alias. The
0006 guards refuse them in the database file itself; ordinary appends and the concurrency
check (a colliding append is a ConcurrencyConflict) are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore import ConcurrencyConflict, SqlEventStore, StreamAppend
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from tests.integration.test_event_store_contract import ev, meta


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("verb", ["REPLACE", "INSERT OR REPLACE"])
def test_replace_cannot_rewrite_an_event(sqlite_engine: Engine, verb: str) -> None:
    store = SqlEventStore(sqlite_engine)
    store.append([StreamAppend("s", 0, [ev(1), ev(2)])], metadata=meta())
    before = store.read_all(0)
    with sqlite_engine.connect() as conn:
        # A forged copy of event 1 (same keys, another payload), through the same connection
        conn.exec_driver_sql("CREATE TEMP TABLE forged AS SELECT * FROM events WHERE global_position = 1")
        conn.exec_driver_sql("""UPDATE forged SET payload = '{"forged": true}'""")
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.exec_driver_sql(f"{verb} INTO events SELECT * FROM forged")
        conn.rollback()
    assert store.read_all(0) == before


@pytest.mark.parametrize("verb", ["REPLACE", "INSERT OR REPLACE"])
def test_replace_cannot_repoint_an_alias(sqlite_engine: Engine, verb: str) -> None:
    store = SqlEventStore(sqlite_engine)
    store.append([StreamAppend("user-1", 0, [ev(1)])], metadata=meta(), aliases={"token:abc": "user-1"})
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), sqlite_engine.begin() as conn:
        conn.exec_driver_sql(f"{verb} INTO stream_aliases (alias, stream_id) VALUES ('token:abc', 'user-2')")
    assert store.resolve("token:abc") == "user-1"


def test_appends_and_the_concurrency_check_are_unchanged(sqlite_engine: Engine) -> None:
    store = SqlEventStore(sqlite_engine)
    store.append([StreamAppend("s", 0, [ev(1)])], metadata=meta(), aliases={"k": "s"})
    with pytest.raises(ConcurrencyConflict):
        store.append([StreamAppend("s", 0, [ev(2)])], metadata=meta())  # stale expected version
    with pytest.raises(ConcurrencyConflict):
        store.append([StreamAppend("t", 0, [ev(3)])], metadata=meta(), aliases={"k": "t"})  # alias taken
    store.append([StreamAppend("s", 1, [ev(4)])], metadata=meta(), aliases={"k2": "s"})
    assert [e.payload["n"] for e in store.read_all(0)] == [1, 4]
