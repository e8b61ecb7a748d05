"""`http`: commands through the real HTTP API on loopback, with the read side running as
deployed (a write is answered with the object read back from the projections, so relay, Celery
and Redis are part of every request): `serve`'s server (waitress, in this process) and gunicorn
(`worker-runs api`; 2 worker processes, 1 at small scale), 1 / 4 / 16 clients, each a user with a keep-alive
connection. Baselines in the same run: the same commands through the bus in this process (the
ratio to reach: 0.5), and raw INSERT+COMMIT per operation."""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from collections.abc import Callable

import requests

from commands import messages as m
from domain.actor import Actor
from worker_runs.bench import data
from worker_runs.bench.baselines import RawInserts
from worker_runs.bench.http import ApiUser, LoopbackServer, api_user
from worker_runs.bench.processes import Gunicorn, read_side
from worker_runs.bench.report import Figure
from worker_runs.bench.runner import BenchContext, interleave, run_writers
from worker_runs.bootstrap import Container
from worker_runs.ports import free_port


def run(ctx: BenchContext) -> list[Figure]:
    widths = (1, 4, 16) if ctx.full else (1, 4)
    ops = ctx.pick(small=4, full=400)
    container = ctx.container()
    tag = uuid.uuid4().hex[:6]
    clients = [api_user(container, f"http-{tag}-{n}") for n in range(max(widths))]
    raw = RawInserts(ctx)
    figures: list[Figure] = []
    try:
        with read_side(ctx, container) as (env, _), LoopbackServer(container, threads=32) as serve:
            gunicorn = Gunicorn(env, ctx.home / "gunicorn.log", free_port(),
                                workers=ctx.pick(small=1, full=2))
            with gunicorn:
                gunicorn.wait_ready()
                for writers in widths:
                    figures += _width(ctx, container, clients[:writers], raw,
                                      {"serve": serve.url, "gunicorn": gunicorn.url}, ops, gunicorn.workers)
                gunicorn.check()
    finally:
        raw.close()
    return figures


def _width(ctx: BenchContext, container: Container, clients: list[ApiUser], raw: RawInserts,
           servers: dict[str, str], ops: int, gunicorn_workers: int) -> list[Figure]:
    writers = len(clients)
    per = max(1, ops // writers)
    rng = random.Random(writers)
    batch = data.Batch(container.store)
    # Per case and repetition, per client, per operation: (user, a fresh version of theirs); each
    # client sends CreateUserRun as users of its own (with API tokens), cycled over.
    tokens: dict[str, str] = {}
    plans = {case: [[data.run_plan(batch, per, rng, prefix=f"http{w}", tokens=tokens) for w in range(writers)]
                    for _ in range(ctx.repetitions)]
             for case in ("bus", *servers)}
    batch.flush()
    rounds = {case: iter(p) for case, p in plans.items()}
    names = itertools.count()
    stale: dict[str, int] = {case: 0 for case in servers}
    opened: list[requests.Session] = []
    lock = threading.Lock()

    def bus_run() -> float:
        plan = next(rounds["bus"])
        return writers * per / run_writers(writers, per, lambda w, i: container.bus.handle(
            m.CreateUserRun(plan[w][i][1]), actor=Actor(plan[w][i][0])))

    def bus_worker() -> float:
        r = next(names)
        return writers * per / run_writers(writers, per, lambda w, i: container.bus.handle(
            m.CreateWorker(name=f"W {r} {w} {i}", slug=f"b-{r}-{w}-{i}-{uuid.uuid4().hex[:6]}", type="ocr"),
            actor=clients[w].actor))

    def http_case(case: str, operation: str) -> Callable[[], float]:
        sessions = [_session(c) for c in clients]
        opened.extend(sessions)

        def post(w: int, path: str, body: dict[str, str], token: str | None = None) -> None:
            headers = {"Authorization": f"Token {token}"} if token else None
            response = sessions[w].post(servers[case] + path, json=body, headers=headers, timeout=120)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"POST {path}: HTTP {response.status_code} {response.text[:300]}")
            if response.headers.get("X-Stale"):
                with lock:
                    stale[case] += 1

        def sample() -> float:
            if operation == "CreateUserRun":
                plan = next(rounds[case])
                return writers * per / run_writers(writers, per, lambda w, i: post(
                    w, "/api/v1/process/workers/", {"worker_version_id": plan[w][i][1]},
                    tokens[plan[w][i][0]]))
            r = next(names)
            return writers * per / run_writers(writers, per, lambda w, i: post(
                w, "/api/v1/workers/", {"name": f"W {r} {w} {i}", "type": "ocr",
                                        "slug": f"h-{r}-{w}-{i}-{uuid.uuid4().hex[:6]}"}))
        return sample

    cases: dict[str, Callable[[], float]] = {"bus CreateUserRun": bus_run, "bus CreateWorker": bus_worker}
    for server in servers:
        for operation in ("CreateUserRun", "CreateWorker"):
            cases[f"{server} {operation}"] = http_case(server, operation)
    cases["raw"] = lambda: writers * per / run_writers(writers, per, lambda w, i: raw.insert_one())
    try:
        got = interleave(ctx.repetitions, cases)
    finally:
        for session in opened:
            session.close()
    figures = []
    for operation, endpoint in (("CreateUserRun", "POST /api/v1/process/workers/"),
                                ("CreateWorker", "POST /api/v1/workers/")):
        baselines = [got.baseline(f"bus {operation}", f"{operation} through the bus, same run"),
                     got.baseline("raw", "raw INSERT+COMMIT per op")]
        for server in servers:
            label = ("serve's server (waitress)" if server == "serve"
                     else f"gunicorn, {gunicorn_workers} worker(s)")
            figures.append(Figure("http", f"{endpoint} via {label}, {writers} client(s)", "cmd/s",
                                  got[f"{server} {operation}"], baselines,
                                  {"ops_per_sample": writers * per, "stale_answers": stale[server]}))
    return figures


def _session(user: ApiUser) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {user.token}"
    return session
