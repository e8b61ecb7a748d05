"""`list`: latency of the listings users wait on, over real HTTP on loopback (`serve`'s server),
on a generated population with its read models rebuilt: search workers by name, list my workers,
list my user worker runs, list the children of a folder with many pages, each as the user with the
most runs (the longest listings). p50 and p99 of single
requests, one client. Baseline in the same run: the HTTP floor, GET /livez on the same server
and connection (what any request costs before the app reads anything)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import requests

from commands import messages as m
from commands.messages import IssueToken
from commands.tokens import generate_token, hash_token
from domain.actor import Actor
from worker_runs.bench import data
from worker_runs.bench.http import ApiUser, LoopbackServer
from worker_runs.bench.report import Baseline, Figure
from worker_runs.bench.runner import BenchContext, interleave, percentile, timings_ms


def run(ctx: BenchContext) -> list[Figure]:
    events = ctx.pick(small=1_000, full=1_000_000)
    requests_per_sample = ctx.pick(small=10, full=300)
    children = ctx.pick(small=50, full=10_000)
    container = ctx.container()
    population = data.Population(container.store)
    population.grow(events)
    heavy = population.busiest()
    # A word of the user's own worker names (data.NAME_WORDS), so the search finds some.
    search = next(w.name for w in population.workers if w.owner_id == heavy).split()[0]
    token = generate_token()
    container.bus.handle(IssueToken(user_id=heavy, token_hash=hash_token(token), label="bench"))
    # A folder of the user's with many pages.
    corpus_id = container.bus.handle(m.CreateCorpus(name="Listing"), actor=Actor(heavy)).data["corpus_id"]
    for slug, folder in (("folder", True), ("page", False)):
        container.bus.handle(m.CreateElementType(corpus_id, slug, slug.title(), folder=folder),
                             actor=Actor(heavy))
    folder_id = data.elements(container.store, heavy, corpus_id, 1, "folder")[0]
    data.elements(container.store, heavy, corpus_id, children, "page", parent_id=folder_id)
    # The read models, up to date (set-up): what `projections rebuild --all` builds.
    container.runner.rebuild_all(container.runner.names)
    endpoints = {
        f"search workers by name ({search!r})": f"/api/v1/workers/?name={search}",
        "list my workers": "/api/v1/workers/",
        "list my runs": "/api/v1/process/workers/",
        f"list a folder's {children:,} children": f"/api/v1/elements/{folder_id}/children/",
    }
    floor = "/livez"
    p50: dict[str, list[float]] = {}
    with LoopbackServer(container) as server:
        session = server.session(ApiUser(heavy, token))

        def latency(path: str) -> Callable[[], float]:
            def sample() -> float:
                times = timings_ms(requests_per_sample, lambda: _get(server.url + path, session))
                p50.setdefault(path, []).append(statistics.median(times))
                return percentile(times, 99)
            return sample

        _get(server.url + floor, session)  # the connection, opened before timing
        for path in endpoints.values():
            # A listing that finds nothing measures nothing.
            page = _get(server.url + path, session)
            if not page.get("results"):
                raise RuntimeError(f"GET {path} found nothing to list: {page}")
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


def _get(url: str, session: requests.Session) -> Any:
    response = session.get(url, timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()
