"""`command`: commands through the message bus on PostgreSQL, 1 / 4 / 16 writer threads.

Ours: RegisterUser (a new stream and a username alias each) and CreateUserRun (loads the
worker through its version alias and the user's local process, appends a run). Baselines, in
the same run: a raw psycopg INSERT+COMMIT per operation into a table shaped like `events`, and
pyeventsourcing's PostgreSQL recorder inserting one event per call."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable

from commands import messages as m
from domain.actor import Actor
from eventstore import EventStore
from worker_runs.bench import data
from worker_runs.bench.baselines import EventsourcingRecorder, RawInserts
from worker_runs.bench.report import Figure
from worker_runs.bench.runner import BenchContext, interleave, run_writers
from worker_runs.bootstrap import Container

WIDTHS = (1, 4, 16)


def run(ctx: BenchContext) -> list[Figure]:
    ops = ctx.pick(small=16, full=1600)
    container = ctx.container()
    raw = RawInserts(ctx)
    es = EventsourcingRecorder(ctx, pool_size=max(WIDTHS))
    try:
        return [figure for writers in WIDTHS for figure in _width(ctx, container, raw, es, writers, ops)]
    finally:
        raw.close()
        es.close()


def _width(ctx: BenchContext, container: Container, raw: RawInserts, es: EventsourcingRecorder,
           writers: int, ops: int) -> list[Figure]:
    per = max(1, ops // writers)
    cases = bus_cases(ctx, container, writers, per)

    def raw_insert() -> float:
        return writers * per / run_writers(writers, per, lambda w, i: raw.insert_one())

    def eventsourcing() -> float:
        return writers * per / run_writers(writers, per, lambda w, i: es.insert_one())

    got = interleave(ctx.repetitions, {**cases, "raw": raw_insert, "eventsourcing": eventsourcing})
    baselines = [got.baseline("raw", "raw INSERT+COMMIT per op"),
                 got.baseline("eventsourcing", "pyeventsourcing 9.5 PostgreSQL recorder")]
    return [Figure("command", f"{name} through the bus, {writers} writer(s)", "cmd/s", got[name], baselines,
                   {"ops_per_sample": writers * per}) for name in cases]


def bus_cases(ctx: BenchContext, container: Container, writers: int,
              per: int) -> dict[str, Callable[[], float]]:
    """RegisterUser and CreateUserRun through the container's bus: `writers` threads of `per`
    commands each, in commands per second; one call per repetition."""
    bus = container.bus
    tag = uuid.uuid4().hex[:6]
    # Set-up, not timed: every CreateUserRun needs a version of its own (one run per user and
    # version), owned by the writer's users.
    versions = _versions_for_runs(ctx, container.store, writers, per)
    rounds = iter(versions)
    names = itertools.count()

    def register() -> float:
        r = next(names)
        seconds = run_writers(writers, per, lambda w, i: bus.handle(
            m.RegisterUser(f"bench-{tag}-{r}-{w}-{i}")))
        return writers * per / seconds

    def create_run() -> float:
        plan = next(rounds)
        seconds = run_writers(writers, per, lambda w, i: bus.handle(
            m.CreateUserRun(plan[w][i][1]), actor=Actor(plan[w][i][0])))
        return writers * per / seconds

    return {"RegisterUser": register, "CreateUserRun": create_run}


def _versions_for_runs(ctx: BenchContext, store: EventStore, writers: int,
                       per: int) -> list[list[list[tuple[str, str]]]]:
    """Per repetition, per writer, per operation: (user id, a fresh version that user owns), each
    writer on users of its own."""
    rng = random.Random(writers)
    batch = data.Batch(store)
    plans = [[data.run_plan(batch, per, rng, prefix=f"writer{w}") for w in range(writers)]
             for _ in range(ctx.repetitions)]
    batch.flush()
    return plans
