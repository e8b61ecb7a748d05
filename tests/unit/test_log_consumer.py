"""The log consumers' shared primitives (eventstore/log_consumer.py): pure parts, no database."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from eventstore.log_consumer import Backoff, default_lock_path, dialect_insert, exponential_delay

TABLE = sa.Table("t", sa.MetaData(), sa.Column("k", sa.Integer, primary_key=True))


def test_exponential_delay_doubles_from_the_base_up_to_the_cap() -> None:
    assert [exponential_delay(n, 0.5, 10.0) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert exponential_delay(0, 0.5, 10.0) == 0.5  # "no failure yet" waits the base, never less


def test_backoff_counts_its_failures_and_starts_again_after_a_reset() -> None:
    backoff = Backoff(0.5, 10.0)
    assert [backoff.next_delay() for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_the_three_former_formulas_are_this_one() -> None:
    """The relay's reconnect (doubling from 0.5, capped at 10), the runner's retry policy
    (0.5 * 2^(n-1), capped at 60) and the webhook deliverer's ceiling (2 * 2^(n-1), capped)."""
    relay, delay = [], 0.5
    for _ in range(8):
        relay.append(delay)
        delay = min(delay * 2, 10.0)
    backoff = Backoff(0.5, 10.0)
    assert [backoff.next_delay() for _ in range(8)] == relay
    for n in range(1, 12):
        assert exponential_delay(n, 0.5, 60.0) == min(0.5 * 2.0 ** max(n - 1, 0), 60.0)
        assert exponential_delay(n, 2.0, 3600.0) == min(3600.0, 2.0 * (2 ** max(0, n - 1)))


def test_dialect_insert_is_the_dialects_own_insert() -> None:
    class Bind:
        def __init__(self, name: str) -> None:
            self.dialect = type("D", (), {"name": name})()

    assert isinstance(dialect_insert(Bind("postgresql"), TABLE), postgresql.Insert)  # type: ignore[arg-type]
    assert isinstance(dialect_insert(Bind("sqlite"), TABLE), sqlite.Insert)  # type: ignore[arg-type]


def test_a_singletons_lock_file_sits_next_to_the_sqlite_database(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    assert default_lock_path(engine, "relay") == tmp_path / "w.db.relay.lock"
    engine.dispose()
