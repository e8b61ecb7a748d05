"""`lag`: a command accepted -> visible, at a steady rate, through the read side as deployed
(relay with its webhook kicker + Celery worker + Redis), PostgreSQL.

Open loop: CreateUserRun commands start on schedule (`rate` per second) whatever the previous
one took, cycling over many users. An observer polls every millisecond; lag is the time from the
command's return (its events committed) to:
- the `user_runs` projection's live checkpoint reaching the command's position (the listing
  shows the run: what read-your-writes waits for);
- the webhook receiver (a local HTTP server) getting the run's `worker_run.created` delivery.
Baseline in the same run: the measurement floor, a raw INSERT+COMMIT at the same rate seen by
the same 1 ms poll."""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa

from commands import messages as m
from domain.actor import Actor
from integrations import subscriptions as subs
from projections.consistency import projection_position
from worker_runs.bench import data
from worker_runs.bench.baselines import psycopg_connections
from worker_runs.bench.processes import read_side
from worker_runs.bench.report import Baseline, Figure
from worker_runs.bench.runner import BenchContext, interleave, percentile
from worker_runs.bootstrap import utc_now

POLL = 0.001
#: threads sending the commands: the schedule, not one slow command, sets the arrival rate
SENDERS = 16


def run(ctx: BenchContext) -> list[Figure]:
    rate = ctx.pick(small=20, full=200)
    seconds = ctx.pick(small=1, full=30)
    count = int(rate * seconds)
    container = ctx.container()
    engine = container.engine
    tag = uuid.uuid4().hex[:10]
    received: dict[str, float] = {}
    receiver = _receiver(received)
    rng = random.Random(rate)
    batch = data.Batch(container.store)
    # One plan more than repetitions: the first warms the read side up (processes, connections).
    plans = [data.run_plan(batch, count, rng, prefix="lag") for _ in range(ctx.repetitions + 1)]
    batch.flush()
    admin = container.bus.handle(m.RegisterUser(f"lag-admin-{tag}", is_admin=True)).data["user_id"]
    subs.create(engine, subs.Caller(Actor(admin, is_admin=True)),
                url=f"http://127.0.0.1:{receiver.server_address[1]}/", event_types=["worker_run.created"],
                secret=None, allow_private=True, now=utc_now())
    webhook: dict[str, list[float]] = {"p50": [], "p99": [], "missing": []}
    listing_p50: list[float] = []
    floor_p50: list[float] = []
    rates: list[float] = []
    raw = RawLag(ctx)
    try:
        with read_side(ctx, container) as (_, side):
            plan_iter = iter(plans)
            warm_up = next(plan_iter)
            _steady(rate, warm_up, lambda i: _command(container, warm_up[i]), _listing_position, engine)

            def listing() -> float:
                plan = next(plan_iter)
                before = set(received)
                lags, committed, achieved = _steady(rate, plan, lambda i: _command(container, plan[i]),
                                                    _listing_position, engine)
                side.check()
                rates.append(achieved)
                listing_p50.append(percentile(lags, 50))
                deadline = time.monotonic() + 30
                runs = {run_id: at for run_id, at in committed}
                while any(r not in received for r in runs) and time.monotonic() < deadline:
                    time.sleep(0.01)
                hooks = [(received[r] - at) * 1000 for r, at in runs.items()
                         if r in received and r not in before]
                webhook["missing"].append(len(runs) - len(hooks))
                if hooks:
                    webhook["p50"].append(percentile(hooks, 50))
                    webhook["p99"].append(percentile(hooks, 99))
                return percentile(lags, 99)

            def floor() -> float:
                lags, _, _ = _steady(rate, plans[0], lambda i: (raw.insert(), ""), _raw_position, engine)
                floor_p50.append(percentile(lags, 50))
                return percentile(lags, 99)

            got = interleave(ctx.repetitions, {"listing": listing, "floor": floor})
    finally:
        receiver.shutdown()
        raw.close()
    sizes = {"rate_per_s": rate, "achieved_rate_min": round(min(rates), 1), "commands_per_sample": count,
             "runs_per_user": data.RUNS_PER_USER}
    floor_p99 = got.baseline("floor", "measurement floor p99: raw INSERT+COMMIT seen by the same poll")
    figures = [
        Figure("lag", f"command -> listing (user_runs checkpoint), {rate}/s, p50", "ms",
               statistics.median(listing_p50),
               [Baseline("measurement floor p50: raw INSERT+COMMIT seen by the same poll",
                         statistics.median(floor_p50))], sizes),
        Figure("lag", f"command -> listing (user_runs checkpoint), {rate}/s, p99", "ms", got["listing"],
               [floor_p99], sizes),
    ]
    if webhook["p99"]:
        figures.append(Figure(
            "lag", f"command -> webhook received (kicker poll 0.05 s), {rate}/s, p99", "ms",
            statistics.median(webhook["p99"]), [floor_p99],
            {**sizes, "webhook_p50_ms": statistics.median(webhook["p50"]),
             "not_delivered_within_30s": max(webhook["missing"])},
        ))
    return figures


class RawLag:
    """The floor's writes: one INSERT in autocommit, on a connection of the sender's own."""

    def __init__(self, ctx: BenchContext) -> None:
        with ctx.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS raw_lag (id bigserial PRIMARY KEY, at timestamptz)")
        self.connections = psycopg_connections(ctx, autocommit=True)

    def insert(self) -> int:
        with self.connections.connection() as conn:
            row = conn.execute("INSERT INTO raw_lag DEFAULT VALUES RETURNING id").fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self.connections.close()


def _listing_position(conn: sa.Connection) -> int:
    """What read-your-writes waits for before the runs listing answers."""
    return projection_position(conn, "user_runs")


def _raw_position(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM raw_lag")).scalar_one())


def _command(container: Any, item: tuple[str, str]) -> tuple[int, str]:
    owner, version_id = item
    result = container.bus.handle(m.CreateUserRun(version_id), actor=Actor(owner))
    assert result.position is not None
    return result.position, result.data["run_id"]


def _steady(rate: float, plan: list[Any], issue: Callable[[int], tuple[int, str]],
            read_position: Callable[[sa.Connection], int],
            engine: sa.Engine) -> tuple[list[float], list[tuple[str, float]], float]:
    """Issue len(plan) operations at `rate`/s, open loop (each starts on schedule, from a pool
    of SENDERS threads, whatever the others take), while a thread polls read_position. Returns
    each operation's lag (ms) from its return to the position being reached, the (id, return
    time) of each, and the rate achieved."""
    pending: list[tuple[int, float]] = []
    lags: list[float] = []
    ids: list[tuple[str, float]] = []
    done = threading.Event()
    lock = threading.Lock()

    def observe() -> None:
        deadline = float("inf")
        with engine.connect() as conn:
            while True:
                finished = done.is_set()
                if finished and deadline == float("inf"):
                    deadline = time.monotonic() + 60
                position = read_position(conn)
                conn.rollback()
                now = time.monotonic()
                with lock:
                    lags.extend((now - at) * 1000 for pos, at in pending if pos <= position)
                    pending[:] = [(pos, at) for pos, at in pending if pos > position]
                    if finished and not pending:
                        return
                if now > deadline:
                    return
                time.sleep(POLL)

    def send(i: int) -> None:
        position, op_id = issue(i)
        at = time.monotonic()
        with lock:
            pending.append((position, at))
            ids.append((op_id, at))

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    interval = 1.0 / rate
    with ThreadPoolExecutor(SENDERS) as pool:
        started = time.monotonic()
        futures = []
        for i in range(len(plan)):
            delay = started + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(send, i))
        for future in futures:
            future.result()
        achieved = len(plan) / (time.monotonic() - started)
    done.set()
    observer.join(70)
    if len(lags) < len(plan):
        raise RuntimeError(f"{len(plan) - len(lags)} of {len(plan)} never became visible in 60 s")
    return lags, ids, achieved


def _receiver(received: dict[str, float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.setdefault(json.loads(body)["data"]["id"], time.monotonic())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
