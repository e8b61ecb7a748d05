"""Who may see which event: the feed, the live stream and the audit trail share this rule.

An admin sees every event. A user sees an event whose scope (integrations/index.py) is
public, or readable by them *as of that event* (they owned or had been granted the object
by then). Visibility as of the event keeps every full feed page immutable.
"""

from __future__ import annotations

import sqlalchemy as sa

from domain.actor import Actor
from eventstore.schema import events
from integrations import index
from integrations.scopes import PUBLIC_SCOPE
from integrations.tables import event_scopes, scope_readers


def visible_to(
    actor: Actor,
    *,
    include_own_actions: bool = False,
    include_public: bool = True,
) -> sa.ColumnElement[bool] | None:
    """A WHERE clause over `events` joined with `event_scopes`; None for admins (no filter).

    `include_own_actions` adds whatever the user did themselves (the audit trail shows a
    user every event they signed, even about objects they can no longer read); without
    `include_public`, public objects count only when the user made them (the audit trail:
    who created a worker type is another user's entry, not public information)."""
    if actor.is_admin:
        return None
    readable = sa.exists(
        sa.select(sa.literal(1)).where(
            scope_readers.c.generation == event_scopes.c.generation,
            scope_readers.c.scope_id == event_scopes.c.scope_id,
            scope_readers.c.user_id == actor.user_id,
            scope_readers.c.since_position <= events.c.global_position,
        )
    )
    clause = sa.or_(event_scopes.c.scope_id == PUBLIC_SCOPE, readable) if include_public else readable
    if include_own_actions:
        clause = sa.or_(events.c.actor_id == actor.user_id, clause)
    return clause


def scoped_events() -> sa.FromClause:
    """`events` joined with each event's scope (in the index's live generation)."""
    return events.join(event_scopes, scope_of_event(event_scopes))


def scope_of_event(scopes: sa.FromClause) -> sa.ColumnElement[bool]:
    """The join condition of `events` with (an alias of) `event_scopes`."""
    return sa.and_(
        scopes.c.global_position == events.c.global_position, scopes.c.generation == index.generation(),
    )
