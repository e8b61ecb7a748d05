"""`rebuild`: `worker-runs projections rebuild --all` (the command itself, on the bench
database) over a generated log, in log events per second and peak memory, at two log sizes (is
memory flat as the log grows?). Baseline in the same run: reading the whole events table through
a raw psycopg server-side cursor (payloads decoded), its speed and its memory."""

from __future__ import annotations

import gc
import time

from click.testing import CliRunner

from worker_runs.bench import data
from worker_runs.bench.memory import PeakMemory
from worker_runs.bench.report import Baseline, Figure
from worker_runs.bench.runner import BenchContext, interleave

#: rows per round trip of the raw read, as the rebuild's default batch
FETCH = 2000
#: RSS growth below this is sampling noise (a few pages)
MEMORY_RESOLUTION_MB = 0.1


def run(ctx: BenchContext) -> list[Figure]:
    sizes = (300, 1_000) if not ctx.full else (100_000, 1_000_000)
    container = ctx.container()
    population = data.Population(container.store)
    figures: list[Figure] = []
    memory: list[tuple[int, float, float]] = []
    for size in sizes:
        # Grow the log to `size` events (set-up, not timed).
        population.grow(size - container.store.head())
        events = container.store.head()
        figure, ours_mb, raw_mb = _measure(ctx, events, len(container.runner.names))
        figures.append(figure)
        memory.append((events, ours_mb, raw_mb))
    # Memory should stay flat as the log grows: the larger log's peak beside the smaller one's.
    # Growth below the sampling resolution is reported as the resolution, so two noise-level
    # figures compare as 1.0 (flat) rather than as a ratio to zero.
    (small_events, small_mb, _), (events, ours_mb, raw_mb) = (
        (n, _resolved(ours), _resolved(raw)) for n, ours, raw in memory
    )
    figures.append(Figure(
        "rebuild", f"peak RSS growth, rebuild --all, {events:,} events", "MB", ours_mb,
        [Baseline(f"same at {small_events:,} events", small_mb),
         Baseline(f"raw server-side-cursor read of {events:,} events", raw_mb)],
    ))
    return figures


def _resolved(mb: float) -> float:
    """A memory growth floored at what sampling can tell apart from a few pages."""
    return max(mb, MEMORY_RESOLUTION_MB)


def _measure(ctx: BenchContext, events: int, projections: int) -> tuple[Figure, float, float]:
    """The rebuild's figure, and the peak memory growths (MB) of the rebuild and the raw read."""
    url = ctx.postgres_url()
    memory: dict[str, list[float]] = {"rebuild": [], "raw": []}

    # Imported here: worker_runs.cli registers this package's command (an import cycle at the top).
    from worker_runs.cli import main

    def rebuild() -> float:
        with PeakMemory() as peak:
            started = time.perf_counter()
            # The entry point itself: it builds its own container from the environment.
            result = CliRunner().invoke(
                main, ["projections", "rebuild", "--all"],
                env={"WORKER_RUNS_DATABASE_URL": url, "WORKER_RUNS_HOME": str(ctx.home)},
            )
            seconds = time.perf_counter() - started
        # The command's container (its engine and pooled connections) ends with it, as with a
        # process that exits: collected now, not when the server runs out of connections.
        gc.collect()
        if result.exit_code != 0:
            raise RuntimeError(f"projections rebuild --all failed: {result.output}") from result.exception
        memory["rebuild"].append(peak.growth_mb)
        return events / seconds

    def raw_read() -> float:
        with PeakMemory() as peak, ctx.connect() as conn:
            started = time.perf_counter()
            with conn.cursor(name="bench_read") as cur:
                cur.itersize = FETCH
                cur.execute("SELECT global_position, stream_id, stream_version, event_type, payload, "
                            "recorded_at, actor_id, worker_run_id FROM events ORDER BY global_position")
                read = sum(1 for _ in cur)
            seconds = time.perf_counter() - started
        memory["raw"].append(peak.growth_mb)
        return read / seconds

    got = interleave(ctx.repetitions, {"rebuild": rebuild, "raw": raw_read})
    figure = Figure("rebuild", f"projections rebuild --all, {events:,} events", "events/s", got["rebuild"],
                    [got.baseline("raw", f"raw server-side-cursor read ({FETCH} rows/fetch)")],
                    {"events": events, "projections": projections})
    return figure, max(memory["rebuild"]), max(memory["raw"])
