"""Write-path throughput: RegisterUser through the bus vs raw psycopg INSERT+COMMIT, same run.

A quick measuring tool for issue 11 (the `worker-runs bench` command is the full one). Each
round runs, for every writer count, the bus scenario and then the raw baseline, in a fresh
throw-away schema of the given PostgreSQL database; `--rounds` repeats it and the table shows
medians. Prints commands (or raw transactions) per second and the ratio bus / raw.

    python scripts/measure_writes.py --commands 1600 --writers 1,4,16 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import sqlalchemy as sa

# Run as a script from a checkout: the repository's packages must be importable (hence E402).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands import messages as m  # noqa: E402
from eventstore.engine import make_engine  # noqa: E402
from eventstore.migrate import upgrade  # noqa: E402
from worker_runs.bootstrap import bootstrap  # noqa: E402
from worker_runs.settings import Settings  # noqa: E402

DEFAULT_URL = os.environ.get(
    "WORKER_RUNS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def run_threads(writers: int, per_writer: int, work: Callable[[int, int], None]) -> float:
    """Seconds taken by `writers` threads, released together, each calling work(w, i) per_writer times."""
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def target(w: int) -> None:
        barrier.wait()
        try:
            for i in range(per_writer):
                work(w, i)
        except BaseException as exc:  # reported below: a failed run must not print numbers
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--writers", default="1,4,16")
    parser.add_argument("--commands", type=int, default=1600, help="per scenario and writer count")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.writers.split(",")]

    schema = f"measure_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        version = conn.execute(sa.text("SHOW server_version")).scalar()
    engine = make_engine(args.url, connect_args={"options": f"-csearch_path={schema}"},
                         pool_size=max(widths) + 4, max_overflow=8)
    dsn = sa.make_url(args.url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        upgrade(engine)
        with psycopg.connect(dsn, options=f"-csearch_path={schema}", autocommit=True) as c:
            c.execute("CREATE TABLE raw_rows (id bigserial PRIMARY KEY, k text NOT NULL UNIQUE, body jsonb)")
        container = bootstrap(Settings(home=Path("."), database_url=args.url), engine=engine)
        results: dict[tuple[str, int], list[float]] = {}
        for _ in range(args.rounds):
            for w in widths:
                per = args.commands // w
                tag = uuid.uuid4().hex[:6]

                def bus(wi: int, i: int, tag: str = tag) -> None:
                    container.bus.handle(m.RegisterUser(f"u-{tag}-{wi}-{i}"))

                s = run_threads(w, per, bus)
                results.setdefault(("bus", w), []).append(per * w / s)

                conns = [psycopg.connect(dsn, options=f"-csearch_path={schema}") for _ in range(w)]

                def raw(wi: int, i: int, conns: list[psycopg.Connection] = conns, tag: str = tag) -> None:
                    c = conns[wi]
                    c.execute("INSERT INTO raw_rows (k, body) VALUES (%s, %s)",
                              (f"{tag}-{wi}-{i}", '{"username": "x"}'))
                    c.commit()

                s = run_threads(w, per, raw)
                for c in conns:
                    c.close()
                results.setdefault(("raw", w), []).append(per * w / s)
        print(f"PostgreSQL {version}, {os.cpu_count()} CPUs, {args.rounds} round(s), "
              f"{args.commands} ops per cell, medians")
        print(f"{'writers':>7} {'bus cmd/s':>10} {'raw op/s':>10} {'ratio':>6}")
        for w in widths:
            bus_rate = statistics.median(results[("bus", w)])
            raw_rate = statistics.median(results[("raw", w)])
            print(f"{w:>7} {bus_rate:>10.0f} {raw_rate:>10.0f} {bus_rate / raw_rate:>6.2f}")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
