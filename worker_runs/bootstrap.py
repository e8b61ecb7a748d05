"""The composition root: every entry point (API, Celery, CLI, tests) builds the app here."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from commands import COMMAND_HANDLERS, CommandBus
from eventstore import SqlEventStore
from eventstore.engine import make_engine
from worker_runs.settings import Settings, load_settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class Container:
    """What the entry points need, wired once."""

    settings: Settings
    engine: Engine
    store: SqlEventStore
    bus: CommandBus


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utc_now,
    ids: Callable[[], str] = new_uuid,
) -> Container:
    """Build the app. Production defaults; tests pass fakes (engine, clock, id generator)."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)
    store = SqlEventStore(engine)
    bus = CommandBus(store, COMMAND_HANDLERS, clock=clock, ids=ids)
    return Container(settings=settings, engine=engine, store=store, bus=bus)
