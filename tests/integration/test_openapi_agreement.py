"""The OpenAPI document declares what the server answers (issue 12, item 9): for every
operation of the route table, the answers an outage, a body without Content-Type and an
oversized body elicit from the real app are statuses the document lists for it, and the
headers' bounds are declared."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import falcon.testing
import pytest
import sqlalchemy as sa

from api.app import MAX_BODY_BYTES, create_app
from api.openapi import build_spec
from api.route_table import Operation, Route
from api.routes import ROUTES
from eventstore import SqlEventStore
from tests.api_support import ApiUser
from worker_runs.bootstrap import Container

DOCUMENT = build_spec(ROUTES, version="test")
OPERATIONS = [(route, op) for route in ROUTES for op in route.operations]


def _path(route: Route) -> str:
    return route.path.format(**{name: str(uuid.uuid4()) for name in route.path_params})


def _documented(route: Route, op: Operation) -> dict[str, Any]:
    return DOCUMENT["paths"][route.path][op.method.lower()]["responses"]  # type: ignore[no-any-return]


def test_every_outage_answer_is_documented(container: Container, alice: ApiUser) -> None:
    gone = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none",
                            connect_args={"connect_timeout": 2})
    client = falcon.testing.TestClient(create_app(dataclasses.replace(container, engine=gone,
                                                                      store=SqlEventStore(gone))))
    undocumented = []
    for route, op in OPERATIONS:
        result = client.simulate_request(op.method, _path(route), headers=alice.headers,
                                         json={} if op.body is not None else None)
        if result.status_code == 500 or str(result.status_code) not in _documented(route, op):
            undocumented.append((op.operation_id, result.status_code))
    gone.dispose()
    assert not undocumented


@pytest.mark.parametrize("case", ["no content type", "too large"])
def test_every_body_refusal_is_documented(container: Container, alice: ApiUser, case: str) -> None:
    client = falcon.testing.TestClient(create_app(container))
    undocumented = []
    for route, op in OPERATIONS:
        if op.body is None:
            continue
        if case == "no content type":
            result = client.simulate_request(op.method, _path(route), headers=alice.headers, body=b'{"a": 1}')
            expected = 415
        else:
            result = client.simulate_request(op.method, _path(route), body=b"{}", headers={
                **alice.headers, "Content-Type": "application/json",
                "Content-Length": str(MAX_BODY_BYTES + 1)})
            expected = 413
        if result.status_code != expected or str(expected) not in _documented(route, op):
            undocumented.append((op.operation_id, result.status_code))
    assert not undocumented


def test_header_bounds_are_declared() -> None:
    for route, op in OPERATIONS:
        parameters = DOCUMENT["paths"][route.path][op.method.lower()]["parameters"]
        for parameter in parameters:
            if parameter.get("name") == "Idempotency-Key":
                assert parameter["schema"]["maxLength"] == 255 and "pattern" in parameter["schema"]
                assert {"409", "422"} <= set(_documented(route, op))
            if parameter.get("name") == "X-Min-Event-Position":
                assert "maximum" in parameter["schema"]
    audit = DOCUMENT["paths"]["/api/v1/audit/"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in audit
