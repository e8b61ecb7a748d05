"""The Celery app of the production worker: `celery -A tasks.app worker` (or `worker-runs worker`).

Configuration comes from the environment through the one composition root.
"""

from __future__ import annotations

from worker_runs.bootstrap import bootstrap


class BrokerNotConfigured(RuntimeError):
    """WORKER_RUNS_BROKER_URL is unset: Celery would silently fall back to amqp://localhost."""


container = bootstrap()
if container.settings.broker_url is None:
    raise BrokerNotConfigured(
        "WORKER_RUNS_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0); "
        "`worker-runs serve` runs a worker with an embedded broker instead."
    )
app = container.celery
