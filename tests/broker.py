"""Brokers for tests: fakeredis over TCP (what Celery/kombu and subprocesses can reach) and
the real Redis, each test with its own queue name and key prefix so runs never collide; and
the database URL a subprocess needs to reach a test's database (its PostgreSQL schema)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from celery.contrib.testing.worker import start_worker
from sqlalchemy.engine import Engine

from projections.relay import Relay
from tests.waiting import running
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.serve import EmbeddedBroker
from worker_runs.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def fake_redis() -> Iterator[str]:
    broker = EmbeddedBroker()
    url = broker.start()
    try:
        yield url
    finally:
        broker.stop()


@pytest.fixture
def fake_broker() -> Iterator[str]:
    with fake_redis() as url:
        yield url


def isolated(settings: Settings, broker_url: str) -> Settings:
    tag = uuid.uuid4().hex[:10]
    return replace(settings, broker_url=broker_url, celery_queue=f"test-{tag}", broker_prefix=f"test-{tag}:")


def drop_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def broker_container(engine: Engine, tmp_path: Path, broker_url: str, **kwargs: object) -> Container:
    settings = Settings(home=tmp_path, database_url=engine.url.render_as_string(hide_password=False))
    return bootstrap(isolated(settings, broker_url), engine=engine, **kwargs)  # type: ignore[arg-type]


@contextlib.contextmanager
def real_worker(container: Container) -> Iterator[None]:
    """A real Celery worker (solo pool, in a thread) consuming the container's queue."""
    with start_worker(container.celery, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@contextlib.contextmanager
def running_relay(container: Container, **kwargs: object) -> Iterator[Relay]:
    relay = Relay(container.engine, container.publisher, container.runner.names,
                  lock_path=container.settings.home / "relay.lock", **kwargs)  # type: ignore[arg-type]
    with running(relay.run, timeout=30, name="test-relay"):
        yield relay


def database_url(engine: Engine) -> str:
    """The URL a separate process (or a fresh container) needs to reach the same database."""
    if engine.dialect.name != "postgresql":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    return engine.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
