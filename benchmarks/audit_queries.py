"""Audit-trail queries at scale: load N events (default 1,000,000) into a fresh PostgreSQL
schema with COPY, index them with the same code as integrations/index.py, then time each
filter of integrations/audit.py (and the feed's visibility query) several times.

    python benchmarks/audit_queries.py [--events 1000000] [--url postgresql+psycopg://...] [--keep]

The workload: users register, create workers and versions, create user worker runs, and
the runs sign elements (most of the log, as in production). recorded_at spans a year.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from domain.actor import Actor
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from eventstore.records import StoredEvent
from integrations import audit, feed
from integrations.index import CHECKPOINT, entry_for

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COLUMNS = (
    "global_position",
    "stream_id",
    "stream_version",
    "event_id",
    "event_type",
    "schema_version",
    "payload",
    "occurred_at",
    "recorded_at",
    "actor_type",
    "actor_id",
    "correlation_id",
    "causation_id",
    "command_id",
    "worker_run_id",
)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def workload(total: int, seed: int = 7) -> Iterator[StoredEvent]:
    """A deterministic event log of `total` events."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / total
    versions: dict[str, int] = {}
    users: list[str] = []
    workers: list[tuple[str, str]] = []  # (worker id, owner)
    worker_versions: list[tuple[str, str]] = []  # (version id, worker id)
    runs: list[tuple[str, str]] = []  # (run id, user id)
    position = 0

    def event(
        stream: str, type_: str, payload: dict[str, Any], actor: str, run: str | None = None
    ) -> StoredEvent:
        nonlocal position
        position += 1
        versions[stream] = versions.get(stream, 0) + 1
        at = start + step * position
        correlation = _uuid(rng)
        return StoredEvent(
            position,
            stream,
            versions[stream],
            _uuid(rng),
            type_,
            1,
            payload,
            at,
            at,
            "user",
            actor,
            correlation,
            correlation,
            None,
            run,
        )

    while position < total:
        roll = rng.random()
        if not users or roll < 0.002:
            user = _uuid(rng)
            users.append(user)
            yield event(
                f"user-{user}",
                "UserRegistered",
                {"user_id": user, "username": f"u{len(users)}", "email": None, "is_admin": False},
                "system",
            )
        elif not workers or roll < 0.012:
            owner = rng.choice(users)
            worker = _uuid(rng)
            workers.append((worker, owner))
            yield event(
                f"worker-{worker}",
                "WorkerCreated",
                {
                    "worker_id": worker,
                    "name": f"w{len(workers)}",
                    "slug": f"w{len(workers)}",
                    "type": "ocr",
                    "owner_id": owner,
                    "description": "",
                    "repository_url": None,
                },
                owner,
            )
        elif not worker_versions or roll < 0.1:
            worker, owner = rng.choice(workers)
            version = _uuid(rng)
            worker_versions.append((version, worker))
            yield event(
                f"worker-{worker}",
                "WorkerVersionCreated",
                {
                    "worker_id": worker,
                    "version_id": version,
                    "number": versions.get(f"worker-{worker}", 0),
                    "configuration": {},
                },
                owner,
            )
        elif not runs or roll < 0.2:
            user = rng.choice(users)
            version, worker = rng.choice(worker_versions)
            run = _uuid(rng)
            runs.append((run, user))
            yield event(
                f"local-process-{user}",
                "UserWorkerRunCreated",
                {
                    "process_id": _uuid(rng),
                    "user_id": user,
                    "run_id": run,
                    "worker_id": worker,
                    "worker_version_id": version,
                    "summary": "run",
                },
                user,
            )
        else:
            run, user = rng.choice(runs)
            element = _uuid(rng)
            yield event(
                f"element-{element}",
                "ElementCreated",
                {
                    "element_id": element,
                    "corpus_id": "c0a80000-0000-4000-8000-000000000000",
                    "name": "page",
                    "type": "page",
                },
                user,
                run,
            )


def load(engine: sa.Engine, total: int) -> dict[str, Any]:
    """COPY the workload and its index rows; returns sample ids to query with."""
    samples: dict[str, Any] = {"runs": [], "workers": [], "users": {}}
    # One connection per COPY: a connection runs one COPY at a time.
    raws = [engine.raw_connection() for _ in range(4)]
    try:
        curs = [raw.cursor() for raw in raws]
        with (
            curs[0].copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as ev_copy,
            curs[1].copy("COPY event_subjects (subject_id, global_position) FROM STDIN") as subj_copy,
            curs[2].copy("COPY event_scopes (global_position, scope_id) FROM STDIN") as scope_copy,
            curs[3].copy("COPY scope_readers (scope_id, user_id, since_position) FROM STDIN") as reader_copy,
        ):
            for e in workload(total):
                ev_copy.write_row(
                    (
                        e.global_position,
                        e.stream_id,
                        e.stream_version,
                        e.event_id,
                        e.event_type,
                        e.schema_version,
                        json.dumps(e.payload),
                        e.occurred_at,
                        e.recorded_at,
                        e.actor_type,
                        e.actor_id,
                        e.correlation_id,
                        e.causation_id,
                        e.command_id,
                        e.worker_run_id,
                    )
                )
                entry = entry_for(e)
                for subject in entry.subjects:
                    subj_copy.write_row((subject, e.global_position))
                scope_copy.write_row((e.global_position, entry.scope))
                for scope, user in entry.readers:
                    reader_copy.write_row((scope, user, e.global_position))
                samples["users"][e.actor_id] = samples["users"].get(e.actor_id, 0) + 1
                if e.event_type == "UserWorkerRunCreated" and len(samples["runs"]) < 50:
                    samples["runs"].append(e.payload)
                if e.event_type == "WorkerCreated" and len(samples["workers"]) < 50:
                    samples["workers"].append(e.payload["worker_id"])
        curs[0].execute("UPDATE event_position SET last = %s", (total,))
        curs[0].execute(
            "INSERT INTO integration_checkpoints (name, position) VALUES (%s, %s)", (CHECKPOINT, total)
        )
        for raw in raws:
            raw.commit()
        curs[0].execute("ANALYZE")
        raws[0].commit()
    finally:
        for raw in raws:
            raw.close()
    return samples


def timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, float, Any]:
    """(median ms, max ms, last result) after one warm-up call."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="Keep the schema afterwards.")
    args = parser.parse_args()

    schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin_engine = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(args.url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        started = time.perf_counter()
        samples = load(engine, args.events)
        print(
            f"loaded {args.events:,} events (+ index) with COPY in {time.perf_counter() - started:.1f}s "
            f"into schema {schema}"
        )
        with engine.connect() as conn:
            subjects = conn.execute(sa.text("SELECT count(*) FROM event_subjects")).scalar()
        print(f"event_subjects rows: {subjects:,}")

        admin = Actor("admin", is_admin=True)
        busy_user = max((u for u in samples["users"] if u != "system"), key=samples["users"].get)
        user = Actor(busy_user)
        run = samples["runs"][0]
        worker = samples["workers"][0]
        day = datetime(2025, 6, 1, tzinfo=UTC)
        mid = args.events // 2
        F = audit.AuditFilter
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("actor (first page)", lambda: audit.search(engine, admin, F(actor=busy_user))),
            (
                "actor (deep page, after=mid)",
                lambda: audit.search(engine, admin, F(actor=busy_user), after=mid),
            ),
            ("worker_run", lambda: audit.search(engine, admin, F(worker_run=run["run_id"]))),
            ("stream = worker id", lambda: audit.search(engine, admin, F(stream=worker))),
            ("stream = version id", lambda: audit.search(engine, admin, F(stream=run["worker_version_id"]))),
            ("stream = user id", lambda: audit.search(engine, admin, F(stream=busy_user))),
            ("type (first page)", lambda: audit.search(engine, admin, F(type="UserWorkerRunCreated"))),
            (
                "type (deep page)",
                lambda: audit.search(engine, admin, F(type="UserWorkerRunCreated"), after=mid),
            ),
            (
                "since/until (one day)",
                lambda: audit.search(engine, admin, F(since=day, until=day + timedelta(days=1))),
            ),
            (
                "actor+type+since",
                lambda: audit.search(engine, admin, F(actor=busy_user, type="ElementCreated", since=day)),
            ),
            ("user: no filter (visibility)", lambda: audit.search(engine, user, F())),
            (
                "user: stream = own run",
                lambda: audit.search(engine, Actor(run["user_id"]), F(worker_run=run["run_id"])),
            ),
            ("user: type (visibility)", lambda: audit.search(engine, user, F(type="UserWorkerRunCreated"))),
            ("run provenance", lambda: audit.run_provenance(engine, Actor(run["user_id"]), run["run_id"])),
            ("feed page, user (visibility)", lambda: feed.read_page(engine, user, after=0, limit=100)),
            ("feed page, admin (deep)", lambda: feed.read_page(engine, admin, after=mid, limit=100)),
            (
                "worker_run, full export (CSV path)",
                lambda: sum(1 for _ in audit.iter_all(engine, admin, F(worker_run=run["run_id"]))),
            ),
        ]
        print(f"{'query':40} {'median ms':>10} {'max ms':>8} {'rows':>6}")
        for name, fn in cases:
            median, worst, result = timed(fn)
            rows = (
                len(result[0])
                if isinstance(result, tuple)
                else len(result.events)
                if hasattr(result, "events")
                else len(result["history"])
                if isinstance(result, dict)
                else result
            )
            print(f"{name:40} {median:10.1f} {worst:8.1f} {rows:>6}")
    finally:
        engine.dispose()
        if not args.keep:
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


if __name__ == "__main__":
    main()
