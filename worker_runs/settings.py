"""Settings from the environment (12-factor), read once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from environs import Env
from marshmallow.validate import Range

#: durations and counts must be above zero: 0 would make a loop spin or never retry
POSITIVE = Range(min=0, min_inclusive=False, error="must be greater than 0")
NOT_NEGATIVE = Range(min=0, error="must not be negative")


@dataclass(frozen=True)
class Settings:
    #: WORKER_RUNS_HOME: where the embedded default keeps its files (default ./.worker-runs)
    home: Path
    #: WORKER_RUNS_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test;
    #: default: a SQLite file in `home`
    database_url: str
    #: WORKER_RUNS_BROKER_URL, e.g. redis://127.0.0.1:6379/0; unset: an embedded broker
    broker_url: str | None = None
    #: WORKER_RUNS_READ_WAIT: seconds a read waits for the projections to reach a position
    read_wait_seconds: float = 2.0
    #: WORKER_RUNS_CELERY_QUEUE: the broker queue of the projection tasks
    celery_queue: str = "worker-runs-projections"
    #: WORKER_RUNS_BROKER_PREFIX: prefix of every broker key (isolates apps sharing a Redis db)
    broker_prefix: str = ""
    #: WORKER_RUNS_SECRET_KEY: signs the web UI's session cookies and CSRF tokens; unset: a key
    #: generated once under `home` (api/ui/session.py, load_secret_key)
    secret_key: str | None = None

    # --- integrations (issue 7): live stream and webhooks ---------------------------------
    #: WORKER_RUNS_SSE_POLL_INTERVAL: seconds between two reads of the event store by a stream
    sse_poll_interval: float = 0.5
    #: WORKER_RUNS_SSE_HEARTBEAT: seconds of silence after which a stream sends a comment
    sse_heartbeat_seconds: float = 15.0
    #: WORKER_RUNS_SSE_RETRY_MS: the reconnection delay the stream tells browsers to use
    sse_retry_ms: int = 3000
    #: WORKER_RUNS_SSE_MAX_SECONDS: a stream ends after this long (the client reconnects with
    #: Last-Event-ID), so a threaded server's threads are not held forever
    sse_max_seconds: float = 600.0
    #: WORKER_RUNS_SSE_AUTH_RECHECK: seconds between two checks, by an open stream, that its
    #: caller's token (or UI session) is still valid; a revoked one ends the stream
    sse_auth_recheck_seconds: float = 5.0
    #: WORKER_RUNS_SSE_MAX_STREAMS: open streams one API process serves at once (each holds a
    #: server thread); `worker-runs api` defaults it to half its gunicorn threads
    sse_max_streams: int = 100
    #: WORKER_RUNS_SSE_MAX_STREAMS_PER_USER: open streams one user may hold in one process
    sse_max_streams_per_user: int = 5
    #: WORKER_RUNS_WEBHOOK_ALLOW_PRIVATE=1: allow webhook URLs on loopback/private networks
    webhook_allow_private: bool = False
    #: WORKER_RUNS_WEBHOOK_TIMEOUT: seconds a receiver has to answer one delivery
    webhook_timeout_seconds: float = 10.0
    #: WORKER_RUNS_WEBHOOK_MAX_ATTEMPTS: attempts of one event before it is parked
    webhook_max_attempts: int = 8
    #: WORKER_RUNS_WEBHOOK_BACKOFF: first retry delay in seconds (doubled each time, jittered)
    webhook_backoff_seconds: float = 2.0
    #: WORKER_RUNS_WEBHOOK_BACKOFF_MAX: the longest retry delay, in seconds
    webhook_backoff_max_seconds: float = 3600.0
    #: WORKER_RUNS_IIIF_ALLOW_PRIVATE=1: let CreateIIIFURL read info.json from a IIIF server on
    #: loopback or a private network (refused by default: the fetch is a server-side request)
    iiif_allow_private: bool = False

    # --- reliability (issue 12) --------------------------------------------------------------
    #: WORKER_RUNS_READY_MAX_LAG: /readyz says "degraded" when a projection's oldest unapplied
    #: event is older than this many seconds (its lag keeps growing)
    ready_max_lag_seconds: float = 30.0

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read WORKER_RUNS_* variables; every invalid one is reported at once."""
    env = Env(eager=False)
    with env.prefixed("WORKER_RUNS_"):
        home = env.path("HOME", Path(".worker-runs"))
        database_url = env.str("DATABASE_URL", "")
        broker_url = env.str("BROKER_URL", "")
        read_wait = env.float("READ_WAIT", 2.0, validate=NOT_NEGATIVE)  # 0: never wait, say stale
        celery_queue = env.str("CELERY_QUEUE", "worker-runs-projections")
        broker_prefix = env.str("BROKER_PREFIX", "")
        secret_key = env.str("SECRET_KEY", "")
        integrations = _integration_settings(env)
        ready_max_lag = env.float("READY_MAX_LAG", 30.0, validate=POSITIVE)
    env.seal()
    home = Path(home).resolve()
    return Settings(
        home=home,
        database_url=database_url or f"sqlite:///{home / 'worker-runs.db'}",
        broker_url=broker_url or None,
        read_wait_seconds=read_wait,
        celery_queue=celery_queue,
        broker_prefix=broker_prefix,
        secret_key=secret_key or None,
        ready_max_lag_seconds=ready_max_lag,
        **integrations,  # type: ignore[arg-type]
    )


def _integration_settings(env: Env) -> dict[str, object]:
    """The integrations' variables (issue 7), read inside the WORKER_RUNS_ prefix."""
    return {
        "sse_poll_interval": env.float("SSE_POLL_INTERVAL", 0.5, validate=POSITIVE),
        "sse_heartbeat_seconds": env.float("SSE_HEARTBEAT", 15.0, validate=POSITIVE),
        "sse_retry_ms": env.int("SSE_RETRY_MS", 3000, validate=POSITIVE),
        "sse_max_seconds": env.float("SSE_MAX_SECONDS", 600.0, validate=POSITIVE),
        "sse_auth_recheck_seconds": env.float("SSE_AUTH_RECHECK", 5.0, validate=POSITIVE),
        "sse_max_streams": env.int("SSE_MAX_STREAMS", 100, validate=POSITIVE),
        "sse_max_streams_per_user": env.int("SSE_MAX_STREAMS_PER_USER", 5, validate=POSITIVE),
        "webhook_allow_private": env.bool("WEBHOOK_ALLOW_PRIVATE", False),
        "webhook_timeout_seconds": env.float("WEBHOOK_TIMEOUT", 10.0, validate=POSITIVE),
        "webhook_max_attempts": env.int("WEBHOOK_MAX_ATTEMPTS", 8, validate=POSITIVE),
        "webhook_backoff_seconds": env.float("WEBHOOK_BACKOFF", 2.0, validate=POSITIVE),
        "webhook_backoff_max_seconds": env.float("WEBHOOK_BACKOFF_MAX", 3600.0, validate=POSITIVE),
        "iiif_allow_private": env.bool("IIIF_ALLOW_PRIVATE", False),
    }
