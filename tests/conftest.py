"""Shared fixtures: one fresh database per test, on SQLite and on the real PostgreSQL.

PostgreSQL tests use their own schema (dropped afterwards) so runs never collide. When the
`CI` variable is set, an unreachable PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.settings import Settings

# Fixtures shared by the test modules, each beside the helpers it uses: the API's (app, api,
# alice, bob, admin, projector, server), the IIIF test server (iiif, allow_loopback_iiif), the
# container with short stream intervals (live, client), the embedded broker (fake_broker), the
# webhook receiver (receiver) and the race containers (pg_race_container, sqlite_race_container).
pytest_plugins = [
    "tests.api_support",
    "tests.iiif_server",
    "tests.integration_support",
    "tests.broker",
    "tests.webhook_receiver",
    "tests.race_support",
]
# Helpers that assert, imported by test modules (plugins above are rewritten already).
pytest.register_assert_rewrite("tests.api_factories")

PG_URL = os.environ.get(
    "WORKER_RUNS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect is reported below
        return f"{type(exc).__name__}: {exc}"


_PG_PROBLEM: str | None | bool = False  # False = not probed yet


def require_postgres() -> None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgres_reachable()
    if _PG_PROBLEM:
        message = f"PostgreSQL at {PG_URL} is unreachable: {_PG_PROBLEM}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class PostgresSchema:
    """A throw-away schema; engines made from it see only that schema."""

    def __init__(self) -> None:
        require_postgres()
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        self.url = PG_URL

    def engine(self, **kwargs: object) -> Engine:
        return make_engine(self.url, connect_args={"options": f"-csearch_path={self.name}"}, **kwargs)

    def drop(self) -> None:
        # A test's server thread may still be finishing a request (an SSE poll after its client
        # hung up) with a transaction open on this schema's tables; DROP would then wait on it,
        # or deadlock with its next lock. End those sessions first; retry once if one slipped in.
        for attempt in range(3):
            try:
                with self._admin.connect() as conn:
                    conn.execute(_TERMINATE_HOLDERS, {"schema": self.name})
                    conn.execute(sa.text(f'DROP SCHEMA "{self.name}" CASCADE'))
                break
            except sa.exc.OperationalError:
                if attempt == 2:
                    raise
        self._admin.dispose()


#: the other sessions holding a lock on a relation of the schema
_TERMINATE_HOLDERS = sa.text(
    "SELECT pg_terminate_backend(pid) FROM (SELECT DISTINCT l.pid FROM pg_locks l"
    " JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()) AS holders"
)


@pytest.fixture
def pg_schema() -> Iterator[PostgresSchema]:
    schema = PostgresSchema()
    yield schema
    schema.drop()


def _sqlite_engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'worker-runs.db'}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    if backend == "sqlite":
        eng = _sqlite_engine(tmp_path)
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    schema = PostgresSchema()
    eng = schema.engine()
    upgrade(eng)
    yield eng
    eng.dispose()
    schema.drop()


@pytest.fixture
def pg_engine(pg_schema: PostgresSchema) -> Iterator[Engine]:
    eng = pg_schema.engine()
    upgrade(eng)
    yield eng
    eng.dispose()


def settings_for(engine: Engine, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, database_url=engine.url.render_as_string(hide_password=False))


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Container:
    return bootstrap(settings_for(engine, tmp_path), engine=engine)


@pytest.fixture
def pg_container(pg_engine: Engine, tmp_path: Path) -> Container:
    return bootstrap(settings_for(pg_engine, tmp_path), engine=pg_engine)
