"""The OpenAPI document (arkindex-api.md §2), the interactive docs and the health probes."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import falcon
import falcon.testing
import pytest
import sqlalchemy as sa
from arkindex.schema.validator import validate as arkindex_validate
from openapi_spec_validator import validate as validate_openapi

from api.app import create_app
from api.route_table import Operation, Route
from api.routes import ROUTES
from eventstore import SqlEventStore
from tests.api_support import Api
from worker_runs.bootstrap import Container

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def backend() -> str:
    # The document does not depend on the database: one backend is enough.
    return "sqlite"


@pytest.fixture
def client(app: falcon.App) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(app)


@pytest.fixture
def spec(client: falcon.testing.TestClient) -> dict[str, Any]:
    # Public: no Authorization header, and the Accept header the official client sends.
    result = client.simulate_get(
        "/api/v1/openapi/", params={"format": "json"},
        headers={"Accept": "application/vnd.oai.openapi+json, application/json"},
    )
    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("application/json")
    return result.json


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
            if method in METHODS]


def test_document_is_valid_openapi_3_0(spec: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.0\.\d+", spec["openapi"])
    validate_openapi(spec)


def test_the_official_client_loads_it(spec: dict[str, Any]) -> None:
    document = arkindex_validate(spec)
    for operation_id in (
        "ListWorkers", "CreateWorker", "RetrieveWorker", "PartialUpdateWorker", "ListWorkerTypes",
        "ListWorkerVersions", "CreateWorkerVersion", "RetrieveWorkerVersion", "PartialUpdateWorkerVersion",
        "CreateUserWorkerRun", "ListUserWorkerRuns", "RetrieveWorkerRun", "RetrieveWorkerRunConfiguration",
        "RetrieveUser", "ListWorkerConfigurations", "CreateWorkerConfiguration",
        "RetrieveWorkerConfiguration",
        "ListModels", "CreateModel", "RetrieveModel", "ListModelVersions", "CreateModelVersion",
        "RetrieveModelVersion",
    ):
        assert operation_id in document.links
    link = document.links["CreateUserWorkerRun"]
    assert (link.method, link.url, link.get_body_field().name) == ("POST", "/api/v1/process/workers/", "body")
    assert document.links["ListUserWorkerRuns"].paginated is True
    assert {f.name for f in document.links["ListWorkers"].get_query_fields()} >= {
        "page", "page_size", "name", "type", "archived"}


def test_every_route_and_operation_of_the_table_is_documented(spec: dict[str, Any]) -> None:
    documented = {(path, method.upper(), op["operationId"]) for path, method, op in _operations(spec)}
    declared = {(route.path, op.method, op.operation_id) for route in ROUTES for op in route.operations}
    assert declared == documented
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert len(ids) == len(set(ids))


#: cursor style (arkindex-api.md §3): the provenance listings, which grow with every import
CURSOR_PAGINATED = {"ListWorkerRunResults", "ListUserResults"}


def test_section_2_rules(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        assert path.startswith("/api/v1/") or path in ("/livez", "/readyz", "/metrics"), path
        params = op.get("parameters", [])
        for param in params:
            assert {"name", "in", "schema"} <= set(param), (path, param)
        path_params = {p["name"] for p in params if p["in"] == "path"}
        assert path_params == set(re.findall(r"\{(\w+)\}", path)), path
        assert all(p["required"] for p in params if p["in"] == "path")
        query = {p["name"] for p in params if p["in"] == "query"}
        assert isinstance(op["x-paginated"], bool)
        if op["x-paginated"] and op["operationId"] in CURSOR_PAGINATED:
            # The client picks cursor style when `cursor` is declared, and page numbers else.
            assert {"cursor", "page_size", "with_count"} <= query and "page" not in query, path
            schema = op["responses"]["200"]["content"]["application/json"]["schema"]
            assert set(schema["properties"]) == {"count", "next", "previous", "results"}
            assert schema["properties"]["count"]["nullable"] is True
        elif op["x-paginated"]:
            assert {"page", "page_size"} <= query and "cursor" not in query, path
            schema = op["responses"]["200"]["content"]["application/json"]["schema"]
            assert set(schema["properties"]) == {"count", "next", "previous", "number", "results"}
        else:
            assert "page" not in query and "cursor" not in query
        if "requestBody" in op:
            assert op["requestBody"]["x-name"] == "body"
            assert "application/json" in op["requestBody"]["content"]
        if method == "get" and op["operationId"].startswith("List"):
            assert op["x-paginated"] is True


def test_public_and_authenticated_operations(spec: dict[str, Any]) -> None:
    assert spec["security"] == [{"TokenAuth": []}]
    public = {op["operationId"] for _, _, op in _operations(spec) if op.get("security") == []}
    assert public == {
        "RetrieveOpenAPISchema", "RetrieveAPIDocs", "RetrieveLiveness", "RetrieveReadiness",
        "RetrieveMetrics", "Login",
    }


def test_documented_error_responses_use_the_error_schema(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"type", "errors", "existing_id", "non_field_errors", "features"}
    create_run = spec["paths"]["/api/v1/process/workers/"]["post"]
    assert set(create_run["responses"]) >= {"201", "400", "401"}
    assert create_run["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}


def test_unknown_schema_format_is_400(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/v1/openapi/", params={"format": "yaml"})
    assert result.status_code == 400
    assert result.json["type"] == "validation_error"


def test_interactive_docs_are_served_with_local_assets(client: falcon.testing.TestClient) -> None:
    page = client.simulate_get("/api/v1/docs/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "../openapi/?format=json" in page.text
    for asset in re.findall(r'(?:src|href)="(static/[^"]+)"', page.text):
        served = client.simulate_get(f"/api/v1/docs/{asset}")
        assert served.status_code == 200, asset
        assert len(served.content) > 100
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', page.text))  # no CDN


def test_livez_and_readyz(client: falcon.testing.TestClient, container: Container) -> None:
    assert client.simulate_get("/livez").json == {"status": "ok"}
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 200
    assert ready.json["database"] == "ok"
    # the subject and visibility index is an ordinary projection: readiness reports it too
    assert set(ready.json["projections"]) == {"catalog", "user_runs", "documents", "event_index"}
    for state in ready.json["projections"].values():
        assert state["lag"] == ready.json["head"] - state["position"]


def test_metrics_export_the_projection_lag(api: Api, client: falcon.testing.TestClient) -> None:
    api.create_worker("lagging", type="ocr")  # two events: the worker type and the worker
    scrape = client.simulate_get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in scrape.text.splitlines() if line and not line.startswith("#")
    }
    head = samples["worker_runs_event_head"]
    assert head >= 2
    for name in ("catalog", "user_runs", "documents"):
        checkpoint = samples[f'worker_runs_projection_checkpoint{{projection="{name}"}}']
        assert samples[f'worker_runs_projection_lag_events{{projection="{name}"}}'] == head - checkpoint


def test_readyz_is_503_when_the_database_is_gone(container: Container) -> None:
    # Nothing listens on port 1: every connection attempt fails at once.
    gone = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2},
    )
    client = falcon.testing.TestClient(create_app(dataclasses.replace(container, engine=gone,
                                                                      store=SqlEventStore(gone))))
    result = client.simulate_get("/readyz")
    assert result.status_code == 503
    assert result.json["status"] == "unavailable"
    assert client.simulate_get("/livez").status_code == 200


def test_an_unexpected_failure_is_a_500_in_the_error_shape_without_details(container: Container) -> None:
    class Broken:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            raise RuntimeError("internal detail that must not leak")

    routes = (*ROUTES, Route("/api/v1/broken/", Broken, (Operation("GET", "Broken", "fails", public=True),)))
    result = falcon.testing.TestClient(create_app(container, routes=routes)).simulate_get("/api/v1/broken/")
    assert result.status_code == 500
    assert result.json == {"type": "server_error", "errors": [
        {"attr": None, "code": "server_error", "detail": "A server error occurred."}]}
    assert "internal detail" not in result.text and "Traceback" not in result.text
