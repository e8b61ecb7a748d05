"""Audit-trail queries: who did what, when, from which request, signed by which run.

Plain indexed SQL over the event store's metadata columns (actor_id, event_type,
recorded_at, worker_run_id: each indexed with the position) and the subject index
(integrations/index.py: `event_subjects(generation, subject_id, global_position)` is its primary key),
keyset-paginated by global position, so the cost of a page does not grow with the log.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain import events as ev
from domain.actor import Actor
from eventstore.records import StoredEvent
from eventstore.schema import events
from integrations import index
from integrations.errors import IntegrationNotFound
from integrations.tables import event_scopes, event_subjects
from integrations.visibility import scope_of_event, scoped_events, visible_to
from projections.envelope import recorded

CSV_COLUMNS = (
    "position",
    "event_id",
    "type",
    "schema_version",
    "stream_id",
    "stream_version",
    "occurred_at",
    "recorded_at",
    "actor_type",
    "actor_id",
    "correlation_id",
    "causation_id",
    "command_id",
    "worker_run_id",
    "data",
)


class RunNotFound(IntegrationNotFound):
    """No user worker run with this id that the caller may see."""


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    worker_run: str | None = None
    stream: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _about(subject_id: str) -> sa.ColumnElement[bool]:
    return events.c.global_position.in_(
        sa.select(event_subjects.c.global_position).where(
            event_subjects.c.generation == index.generation(), event_subjects.c.subject_id == subject_id
        )
    )


def _query(viewer: Actor, f: AuditFilter, after: int, upto: int) -> sa.Select[Any]:
    source: sa.FromClause = events
    position = events.c.global_position
    # Object filters drive the query from the subject index (its primary key is
    # (generation, subject_id, global_position): one range scan, in position order). The index
    # holds each event's stream id and the run that signed it, so `worker_run` ("signed by or
    # about") and `stream` (an object id or a stream id) need no OR that would defeat it.
    for subject in (f.worker_run, f.stream):
        if subject:
            alias = event_subjects.alias()
            source = source.join(
                alias,
                sa.and_(
                    alias.c.generation == index.generation(),
                    alias.c.global_position == events.c.global_position,
                    alias.c.subject_id == subject,
                ),
            )
            position = alias.c.global_position
    clause = visible_to(viewer, include_own_actions=True, include_public=False)
    if clause is not None:
        source = source.join(event_scopes, scope_of_event(event_scopes))
    query = sa.select(events).select_from(source).where(position > after, position <= upto)
    if clause is not None:
        query = query.where(clause)
    if f.actor:
        query = query.where(events.c.actor_id == f.actor)
    if f.type:
        query = query.where(events.c.event_type == f.type)
    if f.since:
        query = query.where(events.c.recorded_at >= f.since)
    if f.until:
        query = query.where(events.c.recorded_at < f.until)
    return query.order_by(position)


def search(
    engine: Engine,
    viewer: Actor,
    f: AuditFilter,
    *,
    after: int = 0,
    limit: int = 100,
) -> tuple[list[StoredEvent], int | None]:
    """One keyset page: the matching events after `after`, and the next cursor (None at the end)."""
    upto = index.catch_up(engine)
    with engine.connect() as conn:
        rows = [StoredEvent(**r._asdict()) for r in conn.execute(_query(viewer, f, after, upto).limit(limit))]
    next_after = rows[-1].global_position if len(rows) == limit else None
    return rows, next_after


def iter_all(
    engine: Engine, viewer: Actor, f: AuditFilter, *, after: int = 0, batch: int = 1000
) -> Iterator[StoredEvent]:
    """Every matching event, in batches, each read on a connection released before yielding:
    constant memory, and a slow consumer holds no connection."""
    upto = index.catch_up(engine)
    while True:
        with engine.connect() as conn:
            rows = [
                StoredEvent(**r._asdict()) for r in conn.execute(_query(viewer, f, after, upto).limit(batch))
            ]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].global_position


def csv_row(event: StoredEvent) -> list[Any]:
    d = event.as_dict()
    return [
        d["position"],
        d["event_id"],
        d["type"],
        d["schema_version"],
        d["stream_id"],
        d["stream_version"],
        d["occurred_at"],
        d["recorded_at"],
        d["actor"]["type"],
        d["actor"]["id"],
        d["correlation_id"],
        d["causation_id"],
        d["command_id"] or "",
        d["worker_run_id"] or "",
        json.dumps(d["data"], sort_keys=True, ensure_ascii=False),
    ]


def iter_csv(rows: Iterator[StoredEvent]) -> Iterator[bytes]:
    """CSV bytes, a header then one line per event, produced as the rows arrive."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for count, event in enumerate(rows, start=1):
        writer.writerow(csv_row(event))
        if count % 200 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def run_provenance(engine: Engine, viewer: Actor, run_id: str) -> dict[str, Any]:
    """Who created the run, when, from which request, and every event that touched its
    worker, version, configuration and model version up to then."""
    upto = index.catch_up(engine)
    with engine.connect() as conn:
        created = conn.execute(
            sa.select(events).where(
                _about(run_id),
                events.c.event_type == "UserWorkerRunCreated",
                events.c.global_position <= upto,
            )
        ).first()
        if created is None:
            raise RunNotFound("No such worker run.")
        run = StoredEvent(**created._asdict())
        made = recorded(run).event  # decoded and upcast, like every reader's
        assert isinstance(made, ev.UserWorkerRunCreated)  # the query selected this type
        # Runs are personal: only their owner (or an admin) may trace them.
        if not viewer.is_admin and made.user_id != viewer.user_id:
            raise RunNotFound("No such worker run.")
        subjects = [made.worker_id, made.worker_version_id]
        subjects += [s for s in (made.configuration_id, made.model_version_id) if s]
        touched = sa.select(event_subjects.c.global_position).where(
            event_subjects.c.generation == index.generation(), event_subjects.c.subject_id.in_(subjects)
        )
        query = sa.select(events).where(
            events.c.global_position.in_(touched), events.c.global_position < run.global_position
        )
        # A shared worker's subjects also index other users' runs on it (their run id, user
        # id and summary): the history shows only what the audit trail shows this viewer.
        clause = visible_to(viewer, include_own_actions=True, include_public=False)
        if clause is not None:
            query = query.select_from(scoped_events()).where(clause)
        history = [
            StoredEvent(**r._asdict()) for r in conn.execute(query.order_by(events.c.global_position))
        ]
    return {
        "run_id": run_id,
        "created_by": {"type": run.actor_type, "id": run.actor_id},
        "created_at": run.recorded_at.isoformat(),
        "correlation_id": run.correlation_id,
        "command_id": run.command_id,
        "position": run.global_position,
        "worker_id": made.worker_id,
        "worker_version_id": made.worker_version_id,
        "configuration_id": made.configuration_id,
        "model_version_id": made.model_version_id,
        "creation": run.as_dict(),
        "history": [e.as_dict() for e in history],
    }
