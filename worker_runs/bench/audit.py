"""`audit`: audit-trail and feed queries (integrations/audit.py, integrations/feed.py) on a
generated log whose events are indexed (integrations/index.py) before timing: one page (100
events) per filter, median of several calls. Baseline in the same run: the same-size page read
straight from `events` by the `actor_id` index with raw psycopg (the floor of any page read)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from domain.actor import Actor
from integrations import audit, feed, index
from worker_runs.bench import data
from worker_runs.bench.report import Figure
from worker_runs.bench.runner import BenchContext, interleave, median_ms

PAGE = 100


def run(ctx: BenchContext) -> list[Figure]:
    events = ctx.pick(small=1_000, full=1_000_000)
    calls = ctx.pick(small=3, full=10)
    container = ctx.container()
    engine = container.engine
    population = data.Population(container.store)
    population.grow(events)
    index.catch_up(engine)  # set-up: what the first reader after the writes would do
    head = container.store.head()
    busy = population.busiest()
    user = Actor(busy)
    admin = Actor("bench-admin", is_admin=True)
    run_id = population.runs[busy][0]
    worker_id = next(w.worker_id for w in population.workers if w.owner_id == busy)
    version_id = next(w.version_ids[0] for w in population.workers if w.owner_id == busy)
    middle = head // 2
    F = audit.AuditFilter
    cases: dict[str, Callable[[], object]] = {
        "admin: actor, first page": lambda: audit.search(engine, admin, F(actor=busy)),
        "admin: actor, page after the middle": lambda: audit.search(engine, admin, F(actor=busy),
                                                                    after=middle),
        "admin: worker_run": lambda: audit.search(engine, admin, F(worker_run=run_id)),
        "admin: stream = worker id": lambda: audit.search(engine, admin, F(stream=worker_id)),
        "admin: stream = version id": lambda: audit.search(engine, admin, F(stream=version_id)),
        "admin: type, deep page": lambda: audit.search(engine, admin, F(type="UserWorkerRunCreated"),
                                                       after=middle),
        "user: no filter (visibility)": lambda: audit.search(engine, user, F()),
        "user: type (visibility)": lambda: audit.search(engine, user, F(type="UserWorkerRunCreated")),
        "run provenance": lambda: audit.run_provenance(engine, user, run_id),
        "feed page, user": lambda: feed.read_page(engine, user, after=0, limit=PAGE),
        "feed page, admin, deep": lambda: feed.read_page(engine, admin, after=middle, limit=PAGE),
    }

    # One connection kept open, as our engine's pool keeps its own.
    with ctx.connect(autocommit=True) as conn:
        def raw_page() -> object:
            return conn.execute(
                "SELECT * FROM events WHERE actor_id = %s ORDER BY global_position LIMIT %s", (busy, PAGE),
            ).fetchall()

        samples = {name: functools.partial(median_ms, calls, fn) for name, fn in cases.items()}
        got = interleave(ctx.repetitions, {**samples, "raw": functools.partial(median_ms, calls, raw_page)})
    baseline = got.baseline("raw", f"raw page of {PAGE} by the actor_id index (psycopg)")
    return [Figure("audit", f"{name}, {head:,} events", "ms/page (median)", got[name], [baseline],
                   {"events": head, "calls_per_sample": calls}) for name in cases]
