"""The cursor feed of public integration events (GET /api/v1/events/).

A page is "the first `limit` visible events with position > after". Positions are gap-free
and handed out in commit order (eventstore/store.py), and visibility is as of each event,
so once a page is full it never changes: it can be cached forever. A page that is not full
is the head: its `next` cursor is the position the server had indexed (which lets a client
skip a long stretch of events it may not see), and it must not be cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.actor import Actor
from eventstore.records import StoredEvent
from eventstore.schema import events
from integrations import index
from integrations.translator import domain_types, translate
from integrations.visibility import scoped_events, visible_to

MAX_LIMIT = 1000


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    #: pass as `after` to get the next page
    next_after: int
    #: `limit` events: this page will never change
    full: bool


def read_page(
    engine: Engine,
    actor: Actor,
    *,
    after: int,
    limit: int,
    types: Sequence[str] | None = None,
) -> FeedPage:
    """The page of public events visible to `actor` after position `after`."""
    upto = index.catch_up(engine)
    rows = read_visible(engine, actor, after=after, upto=upto, limit=limit, types=types)
    translated = [t for t in (translate(row) for row in rows) if t is not None]
    full = len(rows) == limit
    next_after = rows[-1].global_position if full else max(after, upto)
    return FeedPage(translated, next_after, full)


def read_visible(
    engine: Engine,
    actor: Actor,
    *,
    after: int,
    upto: int,
    limit: int,
    types: Sequence[str] | None = None,
) -> list[StoredEvent]:
    """Stored events with after < position <= upto, of the exposed (or given public) types,
    visible to `actor`, in position order. One connection, released before returning."""
    query = sa.select(events).where(
        events.c.global_position > after,
        events.c.global_position <= upto,
        events.c.event_type.in_(domain_types(list(types) if types else None)),
    )
    clause = visible_to(actor)
    if clause is not None:
        # Admins need no scope: the join is only for users.
        query = query.select_from(scoped_events()).where(clause)
    query = query.order_by(events.c.global_position).limit(limit)
    with engine.connect() as conn:
        return [StoredEvent(**row._asdict()) for row in conn.execute(query)]
