"""The PostgreSQL append as one statement: one round trip between BEGIN and COMMIT.

An append is up to seven steps: a lock timeout, the command-log row, the alias claims, a
version check, the position counter, the events and a NOTIFY (SQLite sends them as statements:
eventstore/sqlite_fast.py). Here they are data-modifying CTEs of a single statement, ordered by
their data dependencies (PostgreSQL runs the sub-statements of one WITH concurrently, so an
order that matters must be a dependency):

1. `cfg` sets the lock timeout for this transaction (`set_config(..., true)`, like `SET
   LOCAL`): every later wait — an alias or the counter row held by another writer — gives up
   after it and is retried by the bus as a conflict. A per-session setting would also apply to
   the projections' advisory locks, which must wait as long as a batch takes.
2. `claims` inserts the aliases: a concurrent claim of the same alias waits on its primary key
   and fails there, before it touches the position counter.
3. `pos` takes the counter row last (it is held until COMMIT, so positions are handed out in
   commit order and a tailing reader never skips one). Its increment doubles as the version
   check: it is NULL — a not-null violation, mapped to `ConcurrencyConflict` — unless every
   stream with an expected version > 0 has an event at exactly that version. Together with
   UNIQUE(stream_id, stream_version), which refuses a stream already past it, the stream is at
   exactly the expected version.
4. `appended` and `recorded` write the events and the command-log row (with its position).
   A concurrent duplicate command waits for the counter, then fails on the command id.
5. The main SELECT answers the last position and queues the NOTIFY (sent at COMMIT).

Rows travel as one JSON document each (`jsonb_to_recordset`), so the statement text does not
depend on the number of events: it is built once per shape and psycopg prepares it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from eventstore.records import CommandRecord, Metadata, StreamAppend

NOTIFY_CHANNEL = "worker_runs_events"

_EVENT_COLUMNS = (
    "global_position, stream_id, stream_version, event_id, event_type, schema_version, payload, "
    "occurred_at, recorded_at, actor_type, actor_id, correlation_id, causation_id, command_id, worker_run_id"
)


@cache
def append_sql(*, claims: bool, command: bool, events: bool) -> str:
    """The statement for one shape of append (built once: a handful of shapes exist)."""
    ctes = ["cfg AS MATERIALIZED (SELECT set_config('lock_timeout', %(lock_timeout)s, true) AS v)"]
    if claims:
        ctes.append(
            "claims AS (INSERT INTO stream_aliases (alias, stream_id) "
            "SELECT a.key, a.value FROM cfg, jsonb_each_text(CAST(%(aliases)s AS jsonb)) AS a "
            "RETURNING 1)"
        )
    if events:
        after_claims = " AND (SELECT count(*) FROM claims) >= 0" if claims else ""
        ctes.append(
            "pos AS (UPDATE event_position SET last = last + CASE WHEN NOT EXISTS ("
            "SELECT 1 FROM jsonb_to_recordset(CAST(%(expected)s AS jsonb)) AS g(s text, v int) "
            "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = g.s AND e.stream_version = g.v)"
            ") THEN CAST(%(count)s AS bigint) END "
            f"WHERE id = 1 AND (SELECT v FROM cfg) IS NOT NULL{after_claims} RETURNING last)"
        )
        ctes.append(
            f"appended AS (INSERT INTO events ({_EVENT_COLUMNS}) "
            "SELECT pos.last - CAST(%(count)s AS bigint) + r.i, r.stream_id, r.stream_version, r.event_id, "
            "r.event_type, r.schema_version, r.payload, %(occurred_at)s, %(recorded_at)s, %(actor_type)s, "
            "%(actor_id)s, %(correlation_id)s, %(causation_id)s, CAST(%(command_id)s AS text), "
            "CAST(%(worker_run_id)s AS text) "
            "FROM pos, jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS r(i int, stream_id text, "
            "stream_version int, event_id text, event_type text, schema_version smallint, payload jsonb))"
        )
    if command:
        position, source = ("pos.last", "pos") if events else ("CAST(%(command_position)s AS bigint)", "cfg")
        ctes.append(
            "recorded AS (INSERT INTO command_log "
            "(command_id, command_type, request_hash, response, position, created_at) "
            "SELECT %(log_command_id)s, %(command_type)s, %(request_hash)s, CAST(%(response)s AS jsonb), "
            f"{position}, %(now)s FROM {source})"
        )
    select = (
        f"SELECT last, pg_notify('{NOTIFY_CHANNEL}', last::text) FROM pos" if events
        else "SELECT v FROM cfg"
    )
    return "WITH " + ",\n".join(ctes) + "\n" + select


def append_params(
    appends: Sequence[StreamAppend], rows: list[dict[str, Any]], md: Metadata,
    aliases: Mapping[str, str] | None, command: CommandRecord | None, *,
    now: datetime, lock_timeout_ms: int,
) -> dict[str, Any]:
    """The parameters of `append_sql`; `rows` as built by the store (event_id, versions...)."""
    for stamp in (md.occurred_at, now):
        if stamp.tzinfo is None:
            raise ValueError("naive datetime given to the event store")
    params: dict[str, Any] = {
        "lock_timeout": f"{int(lock_timeout_ms)}ms",
        "aliases": json.dumps(dict(aliases or {})),
        "count": len(rows),
        # Only expected versions > 0 need a look: version 1 of a stream is refused by UNIQUE
        # if the stream exists at all.
        "expected": json.dumps([{"s": a.stream_id, "v": a.expected_version}
                                for a in appends if a.expected_version > 0]),
        "rows": json.dumps([
            {"i": i, "stream_id": r["stream_id"], "stream_version": r["stream_version"],
             "event_id": r["event_id"], "event_type": r["event_type"],
             "schema_version": r["schema_version"], "payload": r["payload"]}
            for i, r in enumerate(rows, start=1)
        ]),
        "occurred_at": md.occurred_at, "recorded_at": now, "actor_type": md.actor_type,
        "actor_id": md.actor_id, "correlation_id": md.correlation_id, "causation_id": md.causation_id,
        "command_id": md.command_id, "worker_run_id": md.worker_run_id, "now": now,
    }
    if command is not None:
        params.update({
            "log_command_id": command.command_id, "command_type": command.command_type,
            "request_hash": command.request_hash, "response": json.dumps(command.response),
            "command_position": command.position,
        })
    return params
