"""Fields that read a response straight from a read-model row, so that a response schema is
the one place that says which column becomes which published field (no presenter beside it).

`attribute="worker_id"` covers a renamed column; `Prefixed` a nested resource whose columns
the query labelled with a prefix (projections/queries.py: a run's version as `v_...`, a
version's worker as `worker_...`); `computed` a value derived from the whole row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from marshmallow import fields
from marshmallow.utils import missing

Row = Mapping[Any, Any]
F = TypeVar("F", bound=fields.Field)


class Prefixed(fields.Nested):
    """A nested resource read from the same row: the columns labelled `prefix`, unprefixed.
    `present`: the (unprefixed) column whose NULL means there is no such object (an outer join)."""

    def __init__(self, nested: Any, prefix: str, *, present: str | None = None, **kwargs: Any) -> None:
        super().__init__(nested, **kwargs)
        self.prefix = prefix
        self.present = present

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        start = len(self.prefix)
        view = {key[start:]: value for key, value in obj.items() if key.startswith(self.prefix)}
        if self.present is not None and view.get(self.present) is None:
            return None
        return view


def computed(field: F, value: Callable[[Row], Any]) -> F:
    """`field` (typed as it is, for the OpenAPI document), its value computed from the row."""

    def get_value(obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return value(obj)

    field.get_value = get_value  # type: ignore[method-assign]
    return field


def or_empty(column: str) -> Callable[[Row], Any]:
    """A JSON column that may be NULL, published as `{}`."""
    return lambda row: row[column] or {}
