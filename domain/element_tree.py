"""The element tree (issue 10 B): an element may have several parents (Arkindex's element
paths), one given at creation and more added later by CreateElementParent / CreateElementChildren.

The parent links of an element live in its own stream (`ElementCreated.parent_id`, then
`ElementParentAdded`): the child decides whether a link is a duplicate. Whether a link would
close a cycle depends on the parent's ancestors, which the handler reads by loading their
streams (commands/element_tree_handlers.py) and hands to the child here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from domain.errors import AlreadyExists, InvalidValue


class ElementParentAlreadyExists(AlreadyExists):
    """A duplicate link. The Arkindex CLI re-runs uploads and ignores exactly this error, found by
    the words "is already a parent of" in the `parent` key of a 400 body: the API adds it."""

    field = "parent"

    def __init__(self, parent_id: str, child_id: str) -> None:
        super().__init__(
            f"{parent_id} is already a parent of {child_id}.", existing_id=parent_id, field="parent",
        )

    def compat_body(self) -> dict[str, object]:
        return {"parent": [self.message]}


class ElementCycle(InvalidValue):
    """A link that would make an element its own ancestor."""


def ancestors(start: str, parents_of: Callable[[str], Iterable[str]], limit: int = 10_000) -> set[str]:
    """Every ancestor of `start` (not `start` itself), walking `parents_of` breadth first.

    `limit` bounds the walk: a tree deeper or wider than this is refused by the caller rather
    than loaded whole into one command."""
    seen: set[str] = set()
    frontier = list(parents_of(start))
    while frontier:
        element_id = frontier.pop()
        if element_id in seen:
            continue
        seen.add(element_id)
        if len(seen) > limit:
            raise InvalidValue("This element has too many ancestors to be linked.", field="parent")
        frontier.extend(parents_of(element_id))
    return seen
