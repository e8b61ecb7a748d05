"""Response fields that read read-model rows (api/row_fields.py) and the request bodies that share
fields: what they dump or load, and how the OpenAPI document describes them."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields

from api.catalog import schemas as s
from api.openapi import build_spec
from api.route_table import Operation, Route
from api.row_fields import Computed, computed


class _Light(Schema):
    id = fields.UUID()


class _Row(Schema):
    doubled = computed(fields.Integer(allow_none=True, metadata={"description": "Twice n."}),
                       lambda row: None if row["n"] is None else str(row["n"] * 2))
    light = computed(fields.Nested(_Light, allow_none=True),
                     lambda row: {"id": row["light_id"]} if row["light_id"] else None)


class _Plain(Schema):
    """_Row's fields as they are, not computed."""

    doubled = fields.Integer(allow_none=True, metadata={"description": "Twice n."})
    light = fields.Nested(_Light, allow_none=True)


class _Resource:
    pass


def test_a_computed_value_is_serialized_by_the_field_it_wraps() -> None:
    row = {"n": 21, "light_id": "5f0c8a3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}
    # the Integer field turns the computed "42" into 42; the Nested one dumps through _Light
    assert _Row().dump(row) == {"doubled": 42, "light": {"id": "5f0c8a3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}}
    assert _Row().dump({"n": None, "light_id": None}) == {"doubled": None, "light": None}


def test_each_schema_instance_binds_its_own_copy_of_the_wrapped_field() -> None:
    first, second = _Row(), _Row()
    inner_first = first.fields["doubled"]
    inner_second = second.fields["doubled"]
    assert isinstance(inner_first, Computed) and isinstance(inner_second, Computed)
    assert inner_first.inner is not inner_second.inner
    assert inner_first.inner.parent is inner_first and inner_second.inner.parent is inner_second


def _component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    components: dict[str, Any] = spec["components"]["schemas"]
    return components[name]


def test_the_document_describes_a_computed_field_as_the_field_it_wraps() -> None:
    route = Route("/api/v1/rows/{id}/", _Resource, (
        Operation("GET", "RetrieveRow", "A row", response=_Row()),
        Operation("PATCH", "UpdateRow", "A row, as the same fields not computed", response=_Plain()),
    ))
    spec = build_spec((route,), version="0")
    properties = _component(spec, "_Row")["properties"]
    assert properties == _component(spec, "_Plain")["properties"]
    assert properties["doubled"] == {"type": "integer", "nullable": True, "description": "Twice n."}
    assert {"$ref": "#/components/schemas/_Light"} in properties["light"]["anyOf"]


def test_worker_version_bodies_share_their_fields_in_the_documented_order() -> None:
    assert list(s.create_worker_version_body.fields) == [
        "configuration", "gpu_usage", "model_usage", "docker_image_iid", "revision_url", "tag", "branch",
        "state",
    ]
    assert list(s.update_worker_version_body.fields) == [
        "configuration", "gpu_usage", "model_usage", "docker_image_iid", "tag", "branch", "state", "archived",
    ]


def test_a_version_update_refuses_a_revision_and_both_bodies_validate_alike() -> None:
    with pytest.raises(ValidationError) as refused:
        s.update_worker_version_body.load({"revision_url": "https://example.org/commit/1"})
    assert refused.value.messages == {"revision_url": ["Unknown field."]}
    for body in (s.create_worker_version_body, s.update_worker_version_body):
        with pytest.raises(ValidationError) as invalid:
            body.load({"gpu_usage": "sometimes", "tag": "x" * 201})
        assert set(invalid.value.messages) == {"gpu_usage", "tag"}
    loaded = s.update_worker_version_body.load({"tag": "v1", "archived": True})
    assert loaded == {"tag": "v1", "archived": True}
