"""Handlers of the element tree commands (issue 10 B), registered in COMMAND_HANDLERS.

A link is decided by the child (domain/element_tree.py); the parent's ancestors, which say
whether the link would close a cycle, are read from their own streams in this unit of work.

Concurrency: the link event is appended to the child's stream, so two racing requests for
the same link cannot both succeed. Two racing links that would together close a cycle
through different elements are not serialised by the store (each reads the other's streams
without appending to them); the paths projection never writes an element as its own
ancestor, so such a cycle cannot make a listing loop.
"""

from __future__ import annotations

from typing import Any

from commands import element_tree_messages as tm
from commands.bus import Handler
from commands.messages import Command
from commands.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.documents import Corpus, Element, corpus_stream, element_stream
from domain.element_tree import ancestors
from domain.errors import InvalidValue, NotFound


def _writable(uow: UnitOfWork, actor: Actor, element_id: str, field: str | None) -> Element:
    # An element in a corpus the caller may not write to looks like one that does not exist.
    element = uow.get(Element, element_stream(element_id), "No such element.", field)
    if not uow.load(Corpus, corpus_stream(element.corpus_id)).can_write(actor):
        raise NotFound("No such element.", field=field)
    return element


def _ancestors(uow: UnitOfWork, element: Element) -> set[str]:
    return ancestors(element.element_id, lambda e: uow.load(Element, element_stream(e)).parents)


def create_element_parent(cmd: tm.CreateElementParent, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    child = _writable(uow, actor, cmd.child_id, None)
    parent = _writable(uow, actor, cmd.parent_id, None)
    child.add_parent(parent, actor.user_id, _ancestors(uow, parent))
    return {"child_id": cmd.child_id, "parent_id": cmd.parent_id}


def create_element_children(cmd: tm.CreateElementChildren, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    parent = _writable(uow, actor, cmd.parent_id, None)
    if len(set(cmd.child_ids)) != len(cmd.child_ids):
        raise InvalidValue("The same child is listed twice.", field="children")
    # The children's streams in one query, then the parent's ancestors once for all of them.
    uow.load_many(Element, [element_stream(child_id) for child_id in cmd.child_ids])
    parent_ancestors = _ancestors(uow, parent)
    for child_id in cmd.child_ids:
        _writable(uow, actor, child_id, "children").add_parent(parent, actor.user_id, parent_ancestors)
    return {"parent_id": cmd.parent_id, "child_ids": list(cmd.child_ids)}


TREE_HANDLERS: dict[type[Command], Handler] = {
    tm.CreateElementParent: create_element_parent,
    tm.CreateElementChildren: create_element_children,
}
