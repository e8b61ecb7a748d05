"""Engines for both backends, with the SQLite settings the embedded default needs."""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and real transactions."""
    if not url.startswith("sqlite"):
        # Statement parameters (tokens hashes, request values) stay out of error messages and logs.
        kwargs.setdefault("hide_parameters", True)
        # No ping on every checkout (a round trip per use): `_closed_by_server` below finds the
        # connections a restarted server closed without one, and connections are renewed every
        # half hour, before server or proxy idle timeouts. What neither sees (a network cut) fails
        # its statement as an outage: 503, and the event store retries once (eventstore/store.py).
        kwargs.setdefault("pool_recycle", 1800)
        # A server that vanished without closing the connection (network cut, frozen host) is
        # noticed in about a minute, not after the kernel's two hours: long-lived connections
        # (the relay's lock and LISTEN) then reconnect like after a restart.
        connect_args = dict(kwargs.pop("connect_args", {}))
        for key, value in {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                           "keepalives_count": 3}.items():
            connect_args.setdefault(key, value)
        kwargs["connect_args"] = connect_args
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 60)
        pg_engine = sa.create_engine(url, **kwargs)
        sa.event.listen(pg_engine, "checkout", _refuse_closed_by_server)
        return pg_engine

    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        db_path = sa.make_url(url).database
        if db_path:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": 30, "check_same_thread": False}
    if memory:
        # One shared connection, or each checkout would see an empty database.
        kwargs.setdefault("poolclass", StaticPool)
    kwargs.setdefault("hide_parameters", True)
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Python 3.11's sqlite3 does not BEGIN before SELECTs ("legacy transaction
        # control"), which breaks isolation: take over and emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the write lock up front (IMMEDIATE): a deferred transaction that
        # reads then writes can fail with SQLITE_BUSY instead of waiting its turn.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _refuse_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection the server closed is replaced (SQLAlchemy reconnects on
    DisconnectionError), found without a round trip. A server that shuts down or terminates a
    backend sends an error and closes the socket, so an idle pooled connection with anything
    to read is treated as dead (at worst a stray notice costs one reconnect)."""
    import psycopg  # the `postgres` extra: only PostgreSQL engines listen to checkouts

    conn = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    if not isinstance(conn, psycopg.Connection):
        return
    if conn.closed or conn.broken:
        raise sa.exc.DisconnectionError("the connection was closed")
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, psycopg.Error) as exc:
        raise sa.exc.DisconnectionError(f"the connection is unusable: {exc}") from exc
    if readable:
        raise sa.exc.DisconnectionError("the server sent something to an idle connection: closing it")


def writer(engine: Engine) -> Engine:
    """The same engine, whose transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(sqlite_immediate=True)
