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
from integrations.delivery import Deliverer, DeliveryPolicy
from integrations.iiif import IIIFInfoClient, InfoFetcher
from integrations.kicker import WebhookKicker
from integrations.stream_slots import StreamSlots
from projections.registry import Projection
from projections.relay import Relay
from projections.runner import DEFAULT_RETRY_POLICY, ProjectionRunner, RetryPolicy
from tasks.factory import create_celery_app
from tasks.publisher import CeleryPublisher
from tasks.webhooks import WebhookPublisher
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
    #: delivers a subscription's due webhooks (the Celery task) or a test event (API, CLI)
    deliverer: Deliverer
    #: the Celery app of the projection and webhook tasks (tasks/), closed over `runner` and
    #: `deliverer`; its broker is settings.broker_url
    celery: Celery
    #: what the relay publishes with
    publisher: CeleryPublisher

    def relay(self, *, poll_interval: float | None = None, catchup_interval: float = 2.0,
              webhook_poll: float = 0.2) -> Relay:
        """The relay of this container's projections (`serve`, `worker-runs relay`); the
        intervals are Relay's (the CLI's --poll and --catchup). It also announces subscriptions
        with due webhooks (issue 7), under its singleton lock."""
        return Relay(self.engine, self.publisher, self.runner.names,
                     poll_interval=poll_interval, catchup_interval=catchup_interval,
                     kickers=[self.webhook_kicker(poll_interval=webhook_poll)])

    def webhook_kicker(self, *, poll_interval: float = 0.2) -> WebhookKicker:
        """Announces subscriptions with due webhooks to the delivery task (integrations/kicker.py)."""
        return WebhookKicker(self.engine, WebhookPublisher(self.celery), poll_interval=poll_interval)

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


def policy_from(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        timeout=settings.webhook_timeout_seconds,
        max_attempts=settings.webhook_max_attempts,
        backoff=settings.webhook_backoff_seconds,
        backoff_max=settings.webhook_backoff_max_seconds,
        allow_private=settings.webhook_allow_private,
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
    deliverer = Deliverer(engine, policy_from(settings))
    celery = create_celery_app(settings, engine=engine, runner=runner, deliverer=deliverer)
    return Container(
        settings=settings, engine=engine, store=store, bus=bus, runner=runner,
        deliverer=deliverer, celery=celery, publisher=CeleryPublisher(celery),
    )
