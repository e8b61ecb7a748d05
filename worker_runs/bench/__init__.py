"""`worker-runs bench`: our figures beside baselines measured in the same run (issue 11).

The scenarios, in one explicit registry: each module's run(ctx) returns its figures."""

from __future__ import annotations

from collections.abc import Callable

from worker_runs.bench import audit, bulk, command, history, httpapi, lag, listing, rebuild, sqlite
from worker_runs.bench.report import Figure
from worker_runs.bench.runner import BenchContext

Scenario = Callable[[BenchContext], list[Figure]]

SCENARIOS: dict[str, Scenario] = {
    "command": command.run,
    "sqlite": sqlite.run,
    "bulk": bulk.run,
    "rebuild": rebuild.run,
    "history": history.run,
    "list": listing.run,
    "http": httpapi.run,
    "lag": lag.run,
    "audit": audit.run,
}
#: scenarios that need no PostgreSQL server
EMBEDDED_ONLY: frozenset[str] = frozenset({"sqlite"})
