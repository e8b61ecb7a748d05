"""Append rate of the event store on PostgreSQL: the single-writer bottleneck, measured.

Runs in a fresh schema of the given database and drops it afterwards. Scenarios:

- commands through the bus (load aggregate(s), decide, append in one transaction):
  `RegisterUser` (a new stream each, 1 event + 1 alias) and `CreateWorkerVersion`
  (each writer cycles over its own workers: no conflicts; then all writers on one worker:
  optimistic-concurrency conflicts and retries);
- raw `SqlEventStore.append` of 1-event and 100-event transactions.

Each scenario runs with 1, 4 and 16 writer threads (`--writers`), released together by a
barrier; the table shows commands (or transactions) per second and events per second.

    python benchmarks/append_rate.py --help
    python benchmarks/append_rate.py --commands 1000 --transactions 1000 --writers 1,4,16
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# Runnable as a plain script from a checkout: make the repository's packages importable.
# Run as a script (`python benchmarks/...`): the repository root, for the tests/ helpers and an
# uninstalled checkout, must be importable before the project imports below (hence E402).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands import messages as m  # noqa: E402
from commands.errors import CommandConflict  # noqa: E402
from domain.actor import Actor  # noqa: E402
from eventstore import ConcurrencyConflict, Metadata, NewEvent, SqlEventStore, StreamAppend  # noqa: E402
from eventstore.engine import make_engine  # noqa: E402
from eventstore.migrate import upgrade  # noqa: E402
from worker_runs.bootstrap import Container, bootstrap  # noqa: E402
from worker_runs.settings import Settings  # noqa: E402

DEFAULT_URL = os.environ.get(
    "WORKER_RUNS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: about the size of a real WorkerVersionCreated payload (~330 bytes of JSON)
PAYLOAD = {
    "worker_id": str(uuid.UUID(int=1)), "version_id": str(uuid.UUID(int=2)), "number": 1,
    "configuration": {"beam": 4, "languages": ["fr", "en"], "threshold": 0.5},
    "docker_image_iid": "sha256:" + "0" * 40, "revision_url": None, "gpu_usage": "disabled",
    "model_usage": "supported", "state": "available", "tag": "v1.2.3", "branch": "main",
}


@dataclass(frozen=True)
class Row:
    scenario: str
    writers: int
    operations: int  # commands, or transactions for the raw scenarios
    events: int
    seconds: float
    conflicts: int
    #: commands that used up the bus's bounded retries (CommandConflict, HTTP 409)
    gave_up: int = 0

    @property
    def ops_per_s(self) -> float:
        return self.operations / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def run_writers(writers: int, per_writer: int, work: Callable[[int, int], None]) -> float:
    """Run work(writer, i) for i < per_writer in `writers` threads started together; seconds."""
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        barrier.wait()
        try:
            for i in range(per_writer):
                work(index, i)
        except BaseException as exc:  # re-raised below: a failed run must not print numbers
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


class ConflictCounter:
    """Counts appends refused as conflicts (retried by the bus), thread-safely."""

    def __init__(self, store: SqlEventStore) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self._original = store.append
        store.append = self._append  # type: ignore[method-assign]

    def _append(self, *args: object, **kwargs: object) -> object:
        try:
            return self._original(*args, **kwargs)
        except ConcurrencyConflict:
            with self._lock:
                self.count += 1
            raise

    def take(self) -> int:
        with self._lock:
            count, self.count = self.count, 0
        return count


def events_between(store: SqlEventStore, before: int) -> int:
    return store.head() - before


def bench_register_user(c: Container, counter: ConflictCounter, writers: int, total: int) -> Row:
    per = total // writers
    run_tag = uuid.uuid4().hex[:6]
    head = c.store.head()
    seconds = run_writers(writers, per, lambda w, i: c.bus.handle(m.RegisterUser(f"u-{run_tag}-{w}-{i}")))
    return Row("bus RegisterUser", writers, per * writers, events_between(c.store, head), seconds,
               counter.take())


def bench_create_version(c: Container, counter: ConflictCounter, writers: int, total: int, *,
                         shared: bool) -> Row:
    owner = Actor(c.bus.handle(m.RegisterUser(f"owner-{uuid.uuid4().hex[:8]}")).data["user_id"])
    per = total // writers
    # Uncontended: 20 workers per writer keep streams short (a load reads the whole stream).
    # Contended: every writer appends to the same worker stream.
    pool = 1 if shared else 20
    workers = [
        [c.bus.handle(m.CreateWorker(f"W{w}-{k}", f"w-{uuid.uuid4().hex[:10]}", "bench"), actor=owner)
         .data["worker_id"] for k in range(pool)]
        for w in range(1 if shared else writers)
    ]
    counter.take()
    head = c.store.head()
    gave_up: list[int] = []

    def work(w: int, i: int) -> None:
        mine = workers[0] if shared else workers[w]
        try:
            c.bus.handle(m.CreateWorkerVersion(mine[i % len(mine)], {"configuration": {"i": i}}), actor=owner)
        except CommandConflict:
            # Sustained contention on one stream can exhaust the bounded retries: that is an
            # answer (409, try again), and part of what this scenario measures.
            gave_up.append(1)

    seconds = run_writers(writers, per, work)
    name = "bus CreateWorkerVersion, 1 shared worker" if shared else "bus CreateWorkerVersion"
    return Row(name, writers, per * writers, events_between(c.store, head), seconds, counter.take(),
               len(gave_up))


def bench_raw_append(store: SqlEventStore, writers: int, transactions: int, size: int) -> Row:
    per = transactions // writers
    run_tag = uuid.uuid4().hex[:6]
    md = Metadata("system", "bench", "bench", "bench", occurred_at=datetime.now(UTC))
    batch = [NewEvent("WorkerVersionCreated", PAYLOAD)] * size

    def work(w: int, i: int) -> None:
        store.append([StreamAppend(f"bench-{run_tag}-{w}", i * size, batch)], metadata=md)

    seconds = run_writers(writers, per, work)
    return Row(f"raw append, {size} event(s)/txn", writers, per * writers, per * writers * size, seconds, 0)


def print_table(rows: list[Row]) -> None:
    header = f"{'scenario':<42} {'writers':>7} {'ops':>7} {'events':>8} {'s':>7} {'ops/s':>8} " \
             f"{'events/s':>9} {'conflicts':>9} {'gave up':>7}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.scenario:<42} {r.writers:>7} {r.operations:>7} {r.events:>8} {r.seconds:>7.2f} "
              f"{r.ops_per_s:>8.0f} {r.events_per_s:>9.0f} {r.conflicts:>9} {r.gave_up:>7}")
    print("ops = commands (bus) or transactions (raw); conflicts = appends refused and retried by the bus;\n"
          "gave up = commands answered CommandConflict after the bus's bounded retries")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure the event store's append rate on PostgreSQL (in a throw-away schema).",
    )
    parser.add_argument("--url", default=DEFAULT_URL,
                        help="PostgreSQL SQLAlchemy URL "
                             "(default: $WORKER_RUNS_TEST_DATABASE_URL or %(default)s)")
    parser.add_argument("--writers", default="1,4,16",
                        help="comma-separated writer thread counts (default: %(default)s)")
    parser.add_argument("--commands", type=int, default=1600,
                        help="commands per bus scenario and writer count (default: %(default)s)")
    parser.add_argument("--transactions", type=int, default=1600,
                        help="transactions per raw 1-event scenario; the 100-event one runs a tenth "
                             "(default: %(default)s)")
    parser.add_argument("--keep-schema", action="store_true", help="do not drop the schema (to inspect it)")
    args = parser.parse_args(argv)
    writer_counts = [int(w) for w in args.writers.split(",") if w.strip()]
    if not args.url.startswith("postgresql"):
        parser.error("this benchmark measures PostgreSQL; give a postgresql+psycopg:// URL")

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        settings = {name: conn.execute(sa.text(f"SHOW {name}")).scalar()
                    for name in ("server_version", "synchronous_commit", "fsync")}
    engine: Engine | None = None
    try:
        engine = make_engine(args.url, connect_args={"options": f"-csearch_path={schema}"},
                             pool_size=max(writer_counts) + 4, max_overflow=8)
        upgrade(engine)
        container = bootstrap(Settings(home=Path("."), database_url=args.url), engine=engine)
        counter = ConflictCounter(container.store)
        print(f"PostgreSQL {settings['server_version']} (fsync={settings['fsync']}, "
              f"synchronous_commit={settings['synchronous_commit']}), schema {schema}, "
              f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        rows: list[Row] = []
        for writers in writer_counts:
            rows.append(bench_register_user(container, counter, writers, args.commands))
            rows.append(bench_create_version(container, counter, writers, args.commands, shared=False))
            rows.append(bench_create_version(container, counter, writers, args.commands // 4, shared=True))
            rows.append(bench_raw_append(container.store, writers, args.transactions, 1))
            big_transactions = max(args.transactions // 10, writers)
            rows.append(bench_raw_append(container.store, writers, big_transactions, 100))
        print_table(rows)
        # The point of the counter: positions stayed gap-free (1..head) under all of this.
        with engine.connect() as conn:
            count, last = conn.execute(sa.text("SELECT count(*), max(global_position) FROM events")).one()
        head = container.store.head()
        print(f"gap-free check: {count} events, max position {last}, head {head}: "
              f"{'ok' if count == last == head else 'FAILED'}")
        if not count == last == head:
            return 1
    finally:
        if engine is not None:
            engine.dispose()
        if not args.keep_schema:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
