"""Commands of the element tree (issue 10 B): more parents for existing elements."""

from __future__ import annotations

from dataclasses import dataclass

from commands.messages import Command


@dataclass(frozen=True)
class CreateElementParent(Command):
    child_id: str
    parent_id: str


@dataclass(frozen=True)
class CreateElementChildren(Command):
    parent_id: str
    child_ids: tuple[str, ...]
