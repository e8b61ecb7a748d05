"""`list`: latency of the listings users wait on, over real HTTP on loopback (`serve`'s server),
on a generated population with its read models rebuilt: search workers by name, list my workers,
list my user worker runs, each as a heavy user (the longest listings). p50 and p99 of single
requests, one client. Baseline in the same run: the HTTP floor, GET /livez on the same server
and connection (what any request costs before the app reads anything)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import requests

from commands.messages import IssueToken
from commands.tokens import generate_token, hash_token
from worker_runs.bench import data
from worker_runs.bench.http import ApiUser, LoopbackServer
from worker_runs.bench.report import Baseline, Figure
from worker_runs.bench.runner import BenchContext, interleave, percentile

#: a word of generated worker names (worker_runs/bench/data.py NAME_WORDS)
SEARCH = "kraken"


def run(ctx: BenchContext) -> list[Figure]:
    events = ctx.pick(small=1_000, full=1_000_000)
    requests_per_sample = ctx.pick(small=10, full=300)
    container = ctx.container()
    population = data.Population(container.store)
    population.grow(events)
    heavy = population.busiest()
    token = generate_token()
    container.bus.handle(IssueToken(user_id=heavy, token_hash=hash_token(token), label="bench"))
    # The read models, up to date (set-up): what `projections rebuild --all` builds.
    for name in container.runner.names:
        container.runner.rebuild(name)
    endpoints = {
        "search workers by name": f"/api/v1/workers/?name={SEARCH}",
        "list my workers": "/api/v1/workers/",
        "list my runs": "/api/v1/process/workers/",
    }
    floor = "/livez"
    p50: dict[str, list[float]] = {}
    with LoopbackServer(container) as server:
        session = server.session(ApiUser(heavy, token))

        def latency(path: str) -> Callable[[], float]:
            def sample() -> float:
                times = []
                for _ in range(requests_per_sample):
                    started = time.perf_counter()
                    _get(server.url + path, session)
                    times.append((time.perf_counter() - started) * 1000)
                p50.setdefault(path, []).append(statistics.median(times))
                return percentile(times, 99)
            return sample

        _get(server.url + floor, session)  # the connection, opened before timing
        got = interleave(ctx.repetitions, {path: latency(path) for path in [*endpoints.values(), floor]})
    figures = []
    sizes = {"events": container.store.head(), "workers": len(population.workers),
             "requests_per_sample": requests_per_sample}
    for case, path in endpoints.items():
        figures.append(Figure("list", f"{case}, p50", "ms", statistics.median(p50[path]),
                              [Baseline("GET /livez p50 (HTTP floor)", statistics.median(p50[floor]))],
                              sizes))
        figures.append(Figure("list", f"{case}, p99", "ms", got[path],
                              [got.baseline(floor, "GET /livez p99 (HTTP floor)")], sizes))
    return figures


def _get(url: str, session: requests.Session) -> None:
    response = session.get(url, timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code} {response.text[:300]}")
