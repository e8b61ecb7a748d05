"""Fields that read a response straight from a read-model row, so that a response schema is
the one place that says which column becomes which published field (no presenter beside it).

`attribute="worker_id"` covers a renamed column; `Prefixed` a nested resource whose columns
the query labelled with a prefix (projections/queries.py: a run's version as `v_...`, a
version's worker as `worker_...`); `computed` a value derived from the whole row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import fields
from marshmallow.utils import missing

Row = Mapping[Any, Any]


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


class Computed(fields.Field):
    """`field` (typed as it is: the OpenAPI document describes it, api/openapi.py), its value
    computed from the whole row."""

    def __init__(self, field: fields.Field, value: Callable[[Row], Any]) -> None:
        super().__init__()
        self.inner = field
        self.value = value

    def _bind_to_schema(self, field_name: str, parent: Any) -> None:
        # As fields.List binds its inner field: a copy per schema (fields are shallow-copied).
        super()._bind_to_schema(field_name, parent)
        self.inner = copy.deepcopy(self.inner)
        self.inner._bind_to_schema(field_name, self)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return self.value(obj)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return self.inner._serialize(value, attr, obj, **kwargs)


def computed(field: fields.Field, value: Callable[[Row], Any]) -> Computed:
    """`field`, its value computed from the row (see `Computed`)."""
    return Computed(field, value)


def or_empty(column: str) -> Callable[[Row], Any]:
    """A JSON column that may be NULL, published as `{}`."""
    return lambda row: row[column] or {}
