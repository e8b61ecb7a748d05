"""The composition root: every entry point (API, Celery, CLI, tests) builds the app here."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from celery import Celery
from sqlalchemy.engine import Engine

from api.auth import Authenticator
from api.gateway import CommandGateway
from api.reads import ReadModels
from api.ui.revocations import SessionRevocations
from api.ui.session import SessionCodec, load_secret_key
from commands import COMMAND_HANDLERS, CommandBus
from commands.aggregate_cache import AggregateCache
from eventstore import EventStore, SqlEventStore
from eventstore.engine import make_engine
from integrations.all_projections import ALL_PROJECTIONS
from integrations.iiif import IIIFInfoClient, InfoFetcher
from integrations.stream_slots import StreamSlots
from projections.registry import Projection
from projections.runner import DEFAULT_RETRY_POLICY, ProjectionRunner, RetryPolicy
from tasks.factory import bind_container, create_celery_app
from tasks.publisher import CeleryPublisher
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
    #: applies projection batches, rebuilds, replays parked events (projections/runner.py)
    runner: ProjectionRunner
    #: the Celery app of the projection tasks (tasks/); its broker is settings.broker_url
    celery: Celery
    #: what the relay publishes with
    publisher: CeleryPublisher

    @cached_property
    def web(self) -> WebCollaborators:
        """The HTTP edge's collaborators, built on first use: Celery workers and the CLI, which
        never serve HTTP, do not load the session key."""
        return build_web(self.settings, self.engine, self.store, self.bus)


@dataclass(frozen=True)
class WebCollaborators:
    """What every API process shares between its resources, middleware and web UI."""

    #: read models with read-your-writes waits (api/reads.py)
    reads: ReadModels
    #: tokens and session cookies -> actor; sign-out is recorded on the server
    authenticator: Authenticator
    #: the only way resources send commands (api/gateway.py)
    commands: CommandGateway
    #: the web UI's signed cookies
    sessions: SessionCodec
    #: one count of open live streams per process (each holds a server thread)
    stream_slots: StreamSlots


def build_web(settings: Settings, engine: Engine, store: EventStore, bus: CommandBus) -> WebCollaborators:
    return WebCollaborators(
        reads=ReadModels(engine, wait_seconds=settings.read_wait_seconds),
        authenticator=Authenticator(store, revocations=SessionRevocations(engine)),
        commands=CommandGateway(bus),
        sessions=SessionCodec(load_secret_key(settings)),
        stream_slots=StreamSlots(settings.sse_max_streams, settings.sse_max_streams_per_user),
    )


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utc_now,
    ids: Callable[[], str] = new_uuid,
    projections: Mapping[str, Projection] = ALL_PROJECTIONS,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    iiif: InfoFetcher | None = None,
) -> Container:
    """Build the app. Production defaults; tests pass fakes (engine, clock, id generator,
    projections, retry policy, IIIF info.json fetcher)."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)
    store = SqlEventStore(engine)
    # CreateIIIFURL reads info.json from a user-given URL: guarded (integrations/iiif.py).
    iiif = iiif or IIIFInfoClient(allow_private=settings.iiif_allow_private)
    # Commands on long streams read only what was appended since (commands/aggregate_cache.py).
    bus = CommandBus(store, COMMAND_HANDLERS, clock=clock, ids=ids, services={"iiif": iiif},
                     aggregates=AggregateCache())
    # Real time, even when tests fix the command clock: back-off must be able to elapse.
    runner = ProjectionRunner(engine, projections, policy=retry_policy)
    celery = create_celery_app(settings)
    container = Container(
        settings=settings, engine=engine, store=store, bus=bus, runner=runner,
        celery=celery, publisher=CeleryPublisher(celery),
    )
    bind_container(celery, container)
    return container
