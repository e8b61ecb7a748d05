"""`sqlite`: the bus on the embedded default (a SQLite file in WAL mode) beside raw sqlite3
INSERT+COMMIT per operation into a table shaped like `events`, with the same WAL and
synchronous=NORMAL settings the embedded engine uses (eventstore/engine.py)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

from worker_runs.bench.baselines import ReusedConnections, user_payload
from worker_runs.bench.command import bus_cases
from worker_runs.bench.report import Figure
from worker_runs.bench.runner import BenchContext, interleave, run_writers

#: SQLite takes one writer at a time: 4 shows what waiting for the lock costs
WIDTHS = (1, 4)
RAW_TABLE = """
CREATE TABLE IF NOT EXISTS raw_events (
    id INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    actor_id TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
)
"""


class RawSqlite:
    """sqlite3 connections in WAL mode, reused across samples (a thread takes a free one or
    opens one); each operation an INSERT and a COMMIT."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connections = ReusedConnections(self._open)
        with self.connections.connection() as conn:
            conn.execute(RAW_TABLE)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def insert_one(self) -> None:
        payload = user_payload()
        with self.connections.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO raw_events (stream_id, stream_version, event_id, event_type, payload, actor_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (f"user-{payload['user_id']}", 1, str(uuid.uuid4()), "UserRegistered", json.dumps(payload),
                 "system"),
            )
            conn.execute("COMMIT")

    def close(self) -> None:
        self.connections.close()


def run(ctx: BenchContext) -> list[Figure]:
    ops = ctx.pick(small=48, full=2000)
    home = ctx.home / "embedded"
    home.mkdir(parents=True, exist_ok=True)
    # The embedded default's URL (worker_runs/settings.py): a file under WORKER_RUNS_HOME.
    container = ctx.container(f"sqlite:///{home / 'worker-runs.db'}")
    raw = RawSqlite(home / "raw.db")
    figures: list[Figure] = []
    try:
        for writers in WIDTHS:
            per = max(1, ops // writers)
            cases = bus_cases(ctx, container, writers, per)

            def raw_insert(writers: int = writers, per: int = per) -> float:
                return writers * per / run_writers(writers, per, lambda w, i: raw.insert_one())

            got = interleave(ctx.repetitions, {**cases, "raw": raw_insert})
            baseline = got.baseline("raw", "raw sqlite3 INSERT+COMMIT per op (WAL)")
            figures += [Figure("sqlite", f"{name} through the bus on SQLite, {writers} writer(s)", "cmd/s",
                               got[name], [baseline], {"ops_per_sample": writers * per}) for name in cases]
    finally:
        raw.close()
    return figures
