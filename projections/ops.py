"""What a projector returns: row operations, applied by projections/apply.py.

Projectors are pure functions `Envelope -> list[Op]` (projections/envelope.py): no database,
easy to test, and the same operations can be applied to SQL tables or to an in-memory model in
property tests.
Every operation is idempotent (upsert / set), so applying an event twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.events import DomainEvent
from projections.envelope import Envelope


@dataclass(frozen=True)
class Upsert:
    """Insert the row, or overwrite its `values` when the key exists (with `first_wins`, keep
    the existing row: the subject index's "earliest grant" rows)."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]
    first_wins: bool = False


@dataclass(frozen=True)
class Update:
    """Set `values` on the row with this key (no-op when absent)."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]


@dataclass(frozen=True)
class LinkPaths:
    """Add the paths a new parent link makes to the closure table `table` (issue 10 B):
    from every ancestor of `parent_id` to every descendant of `child_id`. Set-based SQL
    (projections/paths.py, `apply_links`), idempotent like the others."""

    table: str
    parent_id: str
    child_id: str


Op = Upsert | Update | LinkPaths


def copy_row(table: str, event: DomainEvent, key: str, fields: Iterable[str], /, **extra: Any) -> Upsert:
    """The upsert most "created" projectors return: the row keyed by the event's `key` field,
    the event's `fields` copied under their own names, plus `extra` (the envelope's time,
    position or signature). Column and field names are the same by design."""
    return Upsert(table, {key: getattr(event, key)}, {f: getattr(event, f) for f in fields} | extra)


#: a pure function of one decoded event (each module types it by its event class) to row operations
Projector = Callable[[Envelope[Any]], list[Op]]
#: a module's projectors, keyed by the event class each handles
Projectors = Mapping[type[DomainEvent], Projector]
