"""Who may see an event: its visibility scope and the readers it adds, per event class.

A scope is the id whose readers may see the event (`public` for everyone). Every domain event
class is either in `SCOPES` or in `ACTOR_SCOPED` (visible to the user who caused it);
tests/unit/test_integrations_scopes.py fails when a new event class is in neither, so nothing
falls to a default silently. Scopers read the decoded, upcast event, never raw payload keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import events as ev

PUBLIC_SCOPE = "public"

#: (scope id, user id) pairs: that user may read that scope from this event on
Readers = tuple[tuple[str, str], ...]
Scoper = Callable[[Any], tuple[str, Readers]]


def _scope(attr: str) -> Scoper:
    """Scoped by one of the event's ids, adding no reader."""
    return lambda e: (getattr(e, attr), ())


def _scope_with_reader(attr: str, reader: str) -> Scoper:
    """Scoped by one of the event's ids; the user named by `reader` may read it from now on."""
    return lambda e: (getattr(e, attr), ((getattr(e, attr), getattr(e, reader)),))


SCOPES: dict[type[ev.DomainEvent], Scoper] = {
    # a user's own stream: theirs from registration on
    ev.UserRegistered: _scope_with_reader("user_id", "user_id"),
    ev.TokenIssued: _scope("user_id"),
    ev.TokenRevoked: _scope("user_id"),
    ev.UserPasswordSet: _scope("user_id"),
    ev.WorkerTypeCreated: lambda e: (PUBLIC_SCOPE, ()),
    # a worker and everything under it (versions, configurations): whoever may use the worker
    ev.WorkerCreated: _scope_with_reader("worker_id", "owner_id"),
    ev.WorkerAccessGranted: _scope_with_reader("worker_id", "user_id"),
    ev.WorkerUpdated: _scope("worker_id"),
    ev.WorkerVersionCreated: _scope("worker_id"),
    ev.WorkerVersionUpdated: _scope("worker_id"),
    ev.WorkerConfigurationCreated: _scope("worker_id"),
    ev.ModelCreated: _scope_with_reader("model_id", "owner_id"),
    ev.ModelVersionCreated: _scope("model_id"),
    # runs are personal: only the owner of the local process
    ev.UserWorkerRunCreated: _scope("user_id"),
    # issue 14: the owner's, like the run (an admin who retracts it sees it as an admin)
    ev.WorkerRunRetracted: _scope("user_id"),
}

#: Visible to the user who caused them (the scope of a user is their id, theirs since
#: registration): documents and what is published on them.
ACTOR_SCOPED: frozenset[type[ev.DomainEvent]] = frozenset({
    ev.CorpusCreated, ev.ElementTypeCreated, ev.MLClassCreated, ev.ElementCreated,
    ev.TranscriptionCreated, ev.ClassificationCreated, ev.MetaDataCreated, ev.ElementParentAdded,
    ev.ElementUpdated,
    # images and image servers: registered by a user for their documents
    ev.ImageServerCreated, ev.ImageCreated, ev.ImageStatusUpdated,
    ev.EntityTypeCreated, ev.TranscriptionEntityCreated,  # issue 10 B
})


def scope_of(event: ev.DomainEvent, actor_id: str) -> tuple[str, Readers]:
    scoper = SCOPES.get(type(event))
    return scoper(event) if scoper is not None else (actor_id, ())
