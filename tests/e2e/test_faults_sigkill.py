"""SIGKILL of the Celery worker and of the relay at random moments, while clients keep writing
over HTTP (issue 12, "the suite that keeps it fixed").

The production processes run separately, as in docker-compose.yml: `worker-runs api`
(gunicorn, 2 workers), `worker-runs relay` and `worker-runs worker` (Celery, prefork),
against a throwaway PostgreSQL schema and a throwaway `redis-server`. A pool of writer threads
sends CreateWorker commands (every fifth followed by CreateWorkerVersion and
CreateUserWorkerRun), each with its own Idempotency-Key, retried with the same key on a 503 or
a lost connection. Meanwhile, at seeded-random moments, the worker's process group (prefork
children included) or the relay is SIGKILLed and started again after a short random delay, as
a supervisor would, K times. Afterwards:

- every command was answered 201;
- workers sent = WorkerCreated events = rows of the workers read model (runs alike);
- the read models equal what `worker-runs projections rebuild` makes from the event store;
- api, relay and worker are all running.

Per fault it prints (pytest -s) and writes to faults.txt in the test's tmp dir: the victim,
when it died, how long it stayed down, how far the read models were behind when it came back,
and how long they took to catch up. WORKER_RUNS_SOAK=1 runs the long version (more commands,
more faults); WORKER_RUNS_FAULT_SEED picks another sequence of faults.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.migrate import upgrade
from projections.consistency import projection_positions, wait_for_position
from projections.registry import PROJECTIONS
from projections.status import projection_statuses
from tests.broker import database_url
from tests.conftest import PG_URL
from tests.fault_support import Client, RedisServer, Supervised
from tests.projection_workload import snapshot
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.ports import free_port
from worker_runs.settings import Settings
from worker_runs.users import create_user_with_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SOAK = os.environ.get("WORKER_RUNS_SOAK") == "1"
SEED = int(os.environ.get("WORKER_RUNS_FAULT_SEED", "12"))
FAULTS = 24 if SOAK else 6
COMMANDS = 3500 if SOAK else 150  # CreateWorker commands, at least (writers go on until the faults end)
RUN_EVERY = 5  # every fifth worker also gets a version and a user worker run
WRITERS = 8
CATCH_UP_TIMEOUT = 60.0


@dataclass
class Fault:
    victim: str
    killed_at: float  # seconds since the writers started
    down: float  # seconds between the SIGKILL and the restart
    behind: int  # events the slowest projection lagged behind the head at the restart
    overlapped: bool = False  # the next fault struck before this one had recovered
    ready: float = float("nan")  # seconds from the restart until the process logged that it was ready
    recovery: float = float("nan")  # seconds from the restart until the read models reached that head
    sent: int = 0  # commands answered so far


class Recoveries:
    """Times each fault's recovery in a thread of its own: when every projection's live
    checkpoint reaches the head as it was at the restart (also for a fault overtaken by the next)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: list[tuple[Fault, int, float]] = []
        self.starting: list[tuple[Fault, Supervised, float]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="recoveries", daemon=True)

    def watch(self, fault: Fault, victim: Supervised, head: int, restarted: float) -> None:
        with self.lock:
            # A victim killed again before it was ready: its earlier start never finished.
            self.starting = [item for item in self.starting if item[1] is not victim]
            self.starting.append((fault, victim, restarted))
            self.pending.append((fault, head, restarted))

    def settled(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            with self.lock:
                now = time.monotonic()
                for fault, victim, restarted in [item for item in self.starting if item[1].ready()]:
                    fault.ready = now - restarted
                    self.starting.remove((fault, victim, restarted))
                if not self.pending:
                    continue
                with self.engine.connect() as conn:
                    slowest = min(projection_positions(conn, PROJECTIONS).values())
                now = time.monotonic()
                for item in [item for item in self.pending if item[1] <= slowest]:
                    item[0].recovery = now - item[2]
                    self.pending.remove(item)


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: int = 0
    workers: int = 0
    versions: int = 0
    runs: int = 0
    retries: int = 0
    stale: int = 0  # 201s marked X-Stale: the read models had not caught up within the read wait
    answers: dict[int, int] = field(default_factory=dict)  # final status -> count
    failures: list[str] = field(default_factory=list)

    def take(self) -> int:
        with self.lock:
            self.next_index += 1
            return self.next_index - 1

    def answered(self, status: int) -> None:
        with self.lock:
            self.answers[status] = self.answers.get(status, 0) + 1

    @property
    def sent(self) -> int:
        return sum(self.answers.values())


def _post(client: Client, tally: Tally, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """One command, retried with the same Idempotency-Key while the answer is not final (a 503
    or 409 with Retry-After, or no answer at all); the created object, or None on a failure."""
    key = uuid.uuid4().hex
    for attempt in range(40):
        try:
            status, headers, answer = client.call("POST", path, body, headers={"Idempotency-Key": key})
        except OSError as error:  # no answer: did it commit? The same key tells.
            status, headers, answer = 0, {}, repr(error)
        if status in (0, 409, 503) and attempt < 39:
            with tally.lock:
                tally.retries += 1
            time.sleep(float(headers.get("retry-after", "0.2")))
            continue
        tally.answered(status)
        if headers.get("x-stale") == "true":
            with tally.lock:
                tally.stale += 1
        if status != 201:
            with tally.lock:
                tally.failures.append(f"POST {path} {body} -> {status} {answer}")
            return None
        return dict(answer)
    raise AssertionError("unreachable")


def _write(client: Client, tally: Tally, enough: threading.Event) -> None:
    while tally.next_index < COMMANDS or not enough.is_set():
        i = tally.take()
        slug = f"w-{i}"
        worker = _post(client, tally, "/api/v1/workers/", {"name": slug, "slug": slug, "type": "ocr"})
        if worker is None:
            continue
        with tally.lock:
            tally.workers += 1
        if i % RUN_EVERY:
            continue
        version = _post(client, tally, f"/api/v1/workers/{worker['id']}/versions/",
                        {"revision_url": f"https://git.example.org/{slug}/-/commit/{i}"})
        if version is None:
            continue
        with tally.lock:
            tally.versions += 1
        if _post(client, tally, "/api/v1/process/workers/", {"worker_version_id": version["id"]}) is not None:
            with tally.lock:
                tally.runs += 1


def _behind(engine: Engine, head: int) -> int:
    statuses = projection_statuses(engine)
    return max((head - s.checkpoint for s in statuses), default=0)


def _recorded(engine: Engine, event_type: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM events WHERE event_type = :t"),
                                {"t": event_type}).scalar() or 0)


def _seconds(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}s"


def _table(faults: list[Fault], tally: Tally, seed: int, elapsed: float) -> str:
    header = ("#", "victim", "killed at", "down", "behind", "ready", "recovery", "sent", "overlap")
    rows = [
        (str(n), f.victim, f"{f.killed_at:.2f}s", f"{f.down:.2f}s", str(f.behind), _seconds(f.ready),
         _seconds(f.recovery), str(f.sent), "next fault struck first" if f.overlapped else "")
        for n, f in enumerate(faults, 1)
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        f"SIGKILL faults (seed {seed}, {len(faults)} faults, {WRITERS} writers, {elapsed:.1f}s): "
        f"{tally.sent} commands answered ({tally.workers} workers, {tally.versions} versions, "
        f"{tally.runs} runs), {tally.retries} retries, {tally.stale} stale, "
        f"answers {dict(sorted(tally.answers.items()))}",
        "ready: seconds from the restart until the process logged it was ready; recovery: until every "
        "read model reached the head as it was at the restart",
    ]
    for row in [header, *rows]:
        cells = [cell.ljust(width) if i in (1, 8) else cell.rjust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the fault tests")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def user_token(pg_engine: Engine, tmp_path: Path) -> tuple[Container, str]:
    container = bootstrap(Settings(home=tmp_path, database_url=PG_URL), engine=pg_engine)
    token = create_user_with_token(container.bus, "alice", "alice@example.org", label="t").token
    return container, token


@pytest.mark.timeout(3600 if SOAK else 600)  # the soak writes about 5,000 requests
def test_sigkill_of_worker_and_relay_under_http_writes(
    pg_engine: Engine, redis_server: RedisServer, user_token: tuple[Container, str], tmp_path: Path,
) -> None:
    upgrade(pg_engine)
    container, token = user_token
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env.update({"WORKER_RUNS_HOME": str(tmp_path), "WORKER_RUNS_DATABASE_URL": database_url(pg_engine),
                "WORKER_RUNS_BROKER_URL": redis_server.url})
    cli = [sys.executable, "-m", "worker_runs.cli"]
    api = Supervised("api", [*cli, "api", "--port", str(port), "--workers", "2", "--threads", "8"],
                     env, tmp_path / "api.log")
    relay = Supervised("relay", [*cli, "relay"], env, tmp_path / "relay.log", ready="relay: running")
    worker = Supervised("worker", [*cli, "worker", "--pool", "prefork", "--concurrency", "2"], env,
                        tmp_path / "worker.log", ready=" ready.")
    processes = [api, relay, worker]
    client = Client(f"http://127.0.0.1:{port}", token)
    rng = random.Random(SEED)
    tally = Tally()
    faults: list[Fault] = []
    problems: list[str] = []
    enough = threading.Event()
    recoveries = Recoveries(pg_engine)

    def chaos(started: float) -> None:
        # Both victims the same number of times, in a seeded order, each at a random moment of
        # the write load. Usually the next fault waits until the read models caught up (each
        # recovery measured alone); some strike before that, while the last victim is still
        # starting or catching up (an "overlap"), at least one per run.
        victims = [worker, relay] * (FAULTS // 2) + [worker] * (FAULTS % 2)
        rng.shuffle(victims)
        overlaps = [rng.random() < 0.3 for _ in victims[:-1]] + [False]
        if FAULTS > 1 and not any(overlaps):
            overlaps[rng.randrange(FAULTS - 1)] = True
        try:
            for victim, overlap in zip(victims, overlaps, strict=True):
                time.sleep(rng.uniform(0.3, 2.0))
                killed = time.monotonic()
                victim.kill()
                time.sleep(rng.uniform(0.1, 1.5))
                victim.start()
                restarted = time.monotonic()
                head = container.store.head()
                fault = Fault(victim.name, killed - started, restarted - killed, _behind(pg_engine, head),
                              overlapped=overlap, sent=tally.sent)
                faults.append(fault)
                recoveries.watch(fault, victim, head, restarted)
                if overlap:
                    continue
                if not recoveries.settled(timeout=CATCH_UP_TIMEOUT):
                    problems.append(f"the read models did not catch up after killing the {victim.name}: "
                                    f"{projection_statuses(pg_engine)}")
                    return
                for process in processes:
                    if not process.alive:
                        problems.append(f"{process.name} died:\n{process.output()}")
                        return
        except BaseException as exc:  # reported by the test below
            problems.append(repr(exc))
        finally:
            enough.set()

    for process in processes:
        process.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            assert api.alive, api.output()
            try:
                with urllib.request.urlopen(client.base + "/livez", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, api.output()
                time.sleep(0.2)
        # Relay and worker are up once a first write is projected.
        status, headers, _ = client.call("POST", "/api/v1/workers/", {"name": "first", "type": "ocr"})
        assert status == 201
        assert wait_for_position(pg_engine, int(headers["x-event-position"]), timeout=60), \
            relay.output() + worker.output()
        tally.workers, tally.answers = 1, {201: 1}

        started = time.monotonic()
        recoveries.thread.start()
        chaos_thread = threading.Thread(target=chaos, args=(started,), name="chaos")
        with ThreadPoolExecutor(WRITERS, thread_name_prefix="writer") as pool:
            writers = [pool.submit(_write, client, tally, enough) for _ in range(WRITERS)]
            chaos_thread.start()
            chaos_thread.join()
            for future in writers:
                future.result()
        elapsed = time.monotonic() - started
        assert problems == [], problems

        head = container.store.head()
        caught_up = wait_for_position(pg_engine, head, timeout=CATCH_UP_TIMEOUT)
        report = _table(faults, tally, SEED, elapsed)
        (tmp_path / "faults.txt").write_text(report + "\n")
        print("\n" + report)
        assert caught_up, projection_statuses(pg_engine)

        assert len(faults) == FAULTS and worker.kills + relay.kills == FAULTS
        assert all(fault.recovery >= 0 for fault in faults), faults  # each one timed (not NaN)
        assert tally.failures == [], tally.failures[:10]
        assert set(tally.answers) == {201}, tally.answers
        assert tally.workers >= COMMANDS and tally.runs >= 1

        # Commands sent = events recorded = rows of the read models: nothing lost, nothing doubled.
        assert _recorded(pg_engine, "WorkerCreated") == tally.workers
        assert _recorded(pg_engine, "UserWorkerRunCreated") == tally.runs
        live = {name: snapshot(pg_engine, name) for name in PROJECTIONS}
        assert len(live["catalog"]["rm_workers"]) == tally.workers
        assert len(live["catalog"]["rm_worker_versions"]) == tally.versions
        assert len(live["user_runs"]["rm_user_runs"]) == tally.runs
        for status_ in projection_statuses(pg_engine):
            assert status_.parked == 0 and status_.failing == 0 and status_.lag_events == 0, status_

        # The read models equal a rebuild from the event store, by the operator's command
        # (beside the live generation, which the still-running worker keeps serving).
        for name in PROJECTIONS:
            rebuild = subprocess.run([*cli, "projections", "rebuild", name], env=env, capture_output=True,
                                     text=True, timeout=120)
            assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
            assert snapshot(pg_engine, name) == live[name], name

        # No process was left dead, and the API says it is ready.
        for process in processes:
            assert process.alive, f"{process.name} is dead:\n{process.output()}"
        status, _, ready = client.call("GET", "/readyz")
        assert status == 200 and ready["database"] == "ok", ready
    finally:
        recoveries.stop.set()
        for process in processes:
            process.stop()

