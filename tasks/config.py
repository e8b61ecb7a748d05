"""The Celery configuration, in one dict (reference/stack.md §2.10 and §4.1)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from worker_runs.settings import Settings

#: a projection task stops after this many seconds and hands the rest to a new message, so
#: no task ever runs anywhere near the visibility timeout below
TASK_TIME_BUDGET = 20.0

#: Redis redelivers an unacknowledged message after this long: far above the longest task
#: (TASK_TIME_BUDGET) and above any countdown we use (retries of a transient database error
#: back off to at most 60 s), so a running task is never delivered twice *because it is
#: slow*. A worker killed mid-task leaves its message here until then; the relay's catch-up
#: (projections/relay.py) republishes long before, which is harmless: tasks are idempotent.
VISIBILITY_TIMEOUT = 3600


#: Options shared by every task here. The tasks are idempotent (their effects commit with a
#: checkpoint or a dedupe row), so: acknowledge late, requeue on a lost worker; and a database
#: that is briefly gone (restart, failover, lock timeout) is transient: retry with jittered
#: exponential back-off. Event-level failures never get here, the runners record and park them.
IDEMPOTENT_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": (sa.exc.OperationalError, sa.exc.InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


def celery_config(settings: Settings) -> dict[str, Any]:
    transport: dict[str, Any] = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # Never wait forever on a broker that vanished without closing the connection.
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
    }
    if settings.broker_prefix:
        transport["global_keyprefix"] = settings.broker_prefix
    return {
        "broker_url": settings.broker_url,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        # A broker restart or outage of any length: the consumer reconnects for as long as it
        # takes (Celery gives up, and the worker exits, after 100 attempts by default).
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        # JSON only: messages carry a projection name and a position, never objects.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Progress is the checkpoint in the database, not a task result.
        "task_ignore_result": True,
        "result_backend": None,
        # The tasks are idempotent (rows and checkpoint commit together), so acknowledge
        # only after they ran, and requeue a task whose worker died under it.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One message at a time per worker process: no hoarding while a batch runs.
        "worker_prefetch_multiplier": 1,
        # Time for a late-acked task to finish (or be requeued) on a warm shutdown.
        "worker_soft_shutdown_timeout": 10,
        "task_default_queue": settings.celery_queue,
        "task_routes": {"worker_runs.projections.*": {"queue": settings.celery_queue}},
        # Our own logging setup stays in charge.
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "enable_utc": True,
    }
