"""The authorization matrix, generated from the route table (issue 12): every operation in
`api.routes.ROUTES` × {anonymous, another user, the owner, an administrator}.

Alice (the owner) builds a small world over HTTP: a worker with versions, a configuration, a
model, a user worker run, a corpus with a page and its image, signed transcriptions,
classifications, metadata and entities, a webhook. Each operation is then called on *her*
objects by each actor, on a fresh world per operation (so a write by one actor cannot hide a
leak from the next), and checked for:

- the status: anonymous → 401 unless public; the owner → the documented success status;
  another user → a documented status, and wherever the request names one of her objects,
  exactly the answer an unknown id gets (no existence oracle); the administrator → every read
  succeeds, every write answers a documented status (signing with her run stays refused);
- leaked ids: no answer to anyone but Alice (and the administrator) contains the id of one of
  her objects that the request itself did not name.

A route added to the table without a row here fails `test_every_operation_has_a_row`: the
matrix cannot silently fall behind the API.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
from sqlalchemy.engine import Engine

from api.app import create_app
from api.route_table import Operation, Route
from api.routes import ROUTES
from tests.api_support import Api, ApiUser, BackgroundProjector, make_user
from tests.conftest import settings_for
from tests.iiif_server import IIIFServer
from tests.integration_support import fast_settings
from worker_runs.bootstrap import Container, bootstrap


@pytest.fixture
def backend() -> str:
    """The matrix is about the HTTP edge and the handlers' rules, not the storage backend."""
    return "sqlite"


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Container:
    # The test IIIF server and webhook targets are on loopback; the live stream ends quickly.
    settings = fast_settings(settings_for(engine, tmp_path), iiif_allow_private=True, sse_max_seconds=0.5)
    return bootstrap(settings, engine=engine)


@dataclass
class World:
    """Alice's objects, by name; `ids` is every id she owns (the leak check's needles)."""

    refs: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.refs[name]

    @property
    def ids(self) -> set[str]:
        return set(self.refs.values())


def _ok(result: falcon.testing.Result) -> dict[str, Any]:
    assert result.status_code in (200, 201), (result.status_code, result.text)
    return result.json


def build_world(api: Api, iiif: IIIFServer) -> World:
    world = World()
    refs = world.refs
    worker = api.create_worker("Matrix HTR", type="recognizer")
    refs["worker"] = worker["id"]
    refs["version"] = api.create_version(worker["id"])["id"]
    refs["spare_version"] = api.create_version(worker["id"], tag="spare")["id"]
    refs["configuration"] = _ok(api.post(
        f"/api/v1/workers/{worker['id']}/configurations/", {"name": "beam 4", "configuration": {"beam": 4}},
    ))["id"]
    refs["model"] = _ok(api.post("/api/v1/models/", {"name": "Matrix model"}))["id"]
    refs["model_version"] = _ok(api.post(f"/api/v1/model/{refs['model']}/versions/", {}))["id"]
    refs["run"] = api.create_run(refs["version"], configuration_id=refs["configuration"],
                                 model_version_id=refs["model_version"])["id"]
    refs["corpus"] = _ok(api.post("/api/v1/corpus/", {"name": "Matrix letters"}))["id"]
    for slug, folder in (("folder", True), ("page", False), ("line", False)):
        _ok(api.post("/api/v1/elements/type/", {"corpus": refs["corpus"], "slug": slug,
                                                 "display_name": slug.title(), "folder": folder}))
    refs["image"] = _ok(api.post("/api/v1/image/iiif/url/", {"url": iiif.image_url("matrix-1")}))["id"]
    refs["folder"] = _ok(api.post("/api/v1/elements/create/", {
        "corpus": refs["corpus"], "type": "folder", "name": "Box 1",
    }))["id"]
    refs["page"] = _ok(api.post("/api/v1/elements/create/", {
        "corpus": refs["corpus"], "type": "page", "name": "Page 1", "parent": refs["folder"],
        "image": refs["image"], "polygon": [[0, 0], [0, 100], [100, 100], [100, 0], [0, 0]],
    }))["id"]
    refs["loose_page"] = _ok(api.post("/api/v1/elements/create/", {
        "corpus": refs["corpus"], "type": "page", "name": "Loose page",
    }))["id"]
    refs["ml_class"] = _ok(api.post(f"/api/v1/corpus/{refs['corpus']}/classes/", {"name": "letter"}))["id"]
    refs["transcription"] = _ok(api.post(f"/api/v1/element/{refs['page']}/transcription/", {
        "text": "Dear Sir", "confidence": 0.9, "worker_run_id": refs["run"],
    }))["id"]
    refs["classification"] = _ok(api.post("/api/v1/classifications/", {
        "element": refs["page"], "ml_class": refs["ml_class"], "confidence": 0.8,
        "worker_run_id": refs["run"],
    }))["id"]
    refs["metadata"] = _ok(api.post(f"/api/v1/element/{refs['page']}/metadata/", {
        "type": "text", "name": "folio", "value": "1r", "worker_run_id": refs["run"],
    }))["id"]
    refs["entity_type"] = _ok(api.post("/api/v1/entity/types/", {
        "name": "person", "corpus": refs["corpus"],
    }))["id"]
    refs["entity"] = _entity(api, refs)
    refs["webhook"] = _ok(api.post("/api/v1/webhooks/", {
        "url": "http://127.0.0.1:9/matrix", "events": ["worker_run.created"],
    }))["id"]
    return world


def _entity(api: Api, refs: dict[str, str]) -> str:
    created = _ok(api.post(f"/api/v1/transcription/{refs['transcription']}/entities/", {
        "type_id": refs["entity_type"], "offset": 5, "length": 3, "worker_run_id": refs["run"],
    }))
    return str(created.get("id") or created["entity"]["id"])


# --- one row per operation: (path parameters, body, query) built from Alice's world -----------

Call = tuple[dict[str, str], Any, dict[str, str]]
Row = Callable[[World], Call]

POLYGON = [[10, 10], [10, 50], [50, 50], [50, 10], [10, 10]]


def row(params: dict[str, str] | None = None, body: Callable[[World], Any] | None = None,
        query: Callable[[World], dict[str, str]] | None = None) -> Row:
    params = params or {}
    return lambda w: ({k: w[ref] for k, ref in params.items()}, body(w) if body else None,
                      query(w) if query else {})


ROWS: dict[str, Row] = {
    "ListWorkers": row(),
    "CreateWorker": row(body=lambda w: {"name": "Matrix HTR", "slug": "matrix-htr", "type": "recognizer"}),
    "ListWorkerTypes": row(),
    "RetrieveWorker": row({"id": "worker"}),
    "PartialUpdateWorker": row({"id": "worker"}, lambda w: {"description": "changed"}),
    "ListWorkerVersions": row({"id": "worker"}),
    "CreateWorkerVersion": row({"id": "worker"}, lambda w: {"tag": "new"}),
    "RetrieveWorkerVersion": row({"id": "version"}),
    "PartialUpdateWorkerVersion": row({"id": "spare_version"}, lambda w: {"tag": "renamed"}),
    "ListWorkerConfigurations": row({"id": "worker"}),
    "CreateWorkerConfiguration": row({"id": "worker"}, lambda w: {"name": "beam 8",
                                                                   "configuration": {"beam": 8}}),
    "RetrieveWorkerConfiguration": row({"id": "configuration"}),
    "ListModels": row(),
    "CreateModel": row(body=lambda w: {"name": "Another model"}),
    "RetrieveModel": row({"id": "model"}),
    "ListModelVersions": row({"id": "model"}),
    "CreateModelVersion": row({"id": "model"}, lambda w: {"tag": "v2"}),
    "RetrieveModelVersion": row({"id": "model_version"}),
    "ListUserWorkerRuns": row(),
    "CreateUserWorkerRun": row(body=lambda w: {"worker_version_id": w["spare_version"]}),
    "RetrieveWorkerRun": row({"id": "run"}),
    "CreateQuickUserWorkerRun": row(body=lambda w: {"name": "Matrix HTR", "slug": "matrix-htr"}),
    "RetractWorkerRun": row({"id": "run"}),
    "RetrieveWorkerRunConfiguration": row({"id": "run"}),
    "CreateCorpus": row(body=lambda w: {"name": "Another corpus"}),
    "RetrieveCorpus": row({"id": "corpus"}),
    "ListCorpusMLClasses": row({"id": "corpus"}),
    "CreateMLClass": row({"id": "corpus"}, lambda w: {"name": "postcard"}),
    "CreateElementType": row(body=lambda w: {"corpus": w["corpus"], "slug": "word", "display_name": "Word"}),
    "CreateElement": row(body=lambda w: {"corpus": w["corpus"], "type": "page", "name": "Page 2",
                                         "parent": w["folder"]}),
    "RetrieveElement": row({"id": "page"}),
    "PartialUpdateElement": row({"id": "page"}, lambda w: {"name": "Page 1 (recto)"}),
    "ListElements": row({"corpus": "corpus"}),
    "ListElementChildren": row({"id": "folder"}),
    "ListElementParents": row({"id": "page"}),
    "CreateElementParent": row({"child": "loose_page", "parent": "folder"}),
    "CreateElementChildren": row({"id": "folder"}, lambda w: {"children": [w["loose_page"]]}),
    "CreateTranscription": row({"id": "page"}, lambda w: {"text": "Madam", "worker_run_id": w["run"]}),
    "ListTranscriptions": row({"id": "page"}),
    "CreateTranscriptions": row(body=lambda w: {"worker_run_id": w["run"], "transcriptions": [
        {"element_id": w["loose_page"], "text": "bulk", "confidence": 0.5}]}),
    "CreateClassification": row(body=lambda w: {"element": w["loose_page"], "ml_class": w["ml_class"],
                                                "confidence": 0.7, "worker_run_id": w["run"]}),
    "CreateClassifications": row(body=lambda w: {
        "parent": w["loose_page"], "worker_run_id": w["run"],
        "classifications": [{"ml_class": w["ml_class"], "confidence": 0.6}]}),
    "ListElementMetaData": row({"id": "page"}),
    "CreateMetaData": row({"id": "page"}, lambda w: {"type": "text", "name": "hand", "value": "A",
                                                      "worker_run_id": w["run"]}),
    "CreateMetaDataBulk": row({"id": "page"}, lambda w: {"worker_run_id": w["run"], "metadata_list": [
        {"type": "text", "name": "ink", "value": "brown"}]}),
    "ListCorpusWorkerRuns": row({"id": "corpus"}),
    "ListCorpusEntityTypes": row({"id": "corpus"}),
    "CreateEntityType": row(body=lambda w: {"name": "place", "corpus": w["corpus"]}),
    "ListTranscriptionEntities": row({"id": "transcription"}),
    "CreateTranscriptionEntity": row({"id": "transcription"}, lambda w: {
        "type_id": w["entity_type"], "offset": 0, "length": 4, "worker_run_id": w["run"]}),
    "CreateTranscriptionEntities": row({"id": "transcription"}, lambda w: {
        "worker_run_id": w["run"],
        "transcription_entities": [{"type_id": w["entity_type"], "offset": 0, "length": 2}]}),
    "StartWorkerActivity": row(),
    "ListWorkerRunResults": row({"id": "run"}),
    "ListUserResults": row(),
    "RetrieveObjectProvenance": row({"id": "transcription"}),
    "CreateIIIFURL": row(body=lambda w: {"url": "https://iiif.example.org/iiif/2/other", "width": 800,
                                         "height": 600}),
    "CreateElements": row({"id": "page"}, lambda w: {"worker_run_id": w["run"], "elements": [
        {"name": "1", "type": "line", "polygon": POLYGON}]}),
    "CreateElementTranscriptions": row({"id": "page"}, lambda w: {
        "element_type": "line", "worker_run_id": w["run"],
        "transcriptions": [{"polygon": POLYGON, "text": "line one", "confidence": 0.9}]}),
    "RetrieveImage": row({"id": "image"}),
    "PartialUpdateImage": row({"id": "image"}, lambda w: {"status": "checked"}),
    "RetrieveUser": row(),
    "Login": row(body=lambda w: {"email": "alice@example.org", "password": "not her password"}),
    "RetrieveOpenAPISchema": row(),
    "RetrieveAPIDocs": row(),
    "RetrieveLiveness": row(),
    "RetrieveMetrics": row(),
    "RetrieveReadiness": row(),
    "RetrieveEventFeed": row(),
    "RetrieveEventStream": row(query=lambda w: {"after": "0"}),
    "RetrieveAuditTrail": row(),
    "RetrieveWorkerRunProvenance": row({"id": "run"}),
    "ListWebhooks": row(),
    "CreateWebhook": row(body=lambda w: {"url": "http://127.0.0.1:9/other",
                                         "events": ["worker_run.created"]}),
    "RetrieveWebhook": row({"id": "webhook"}),
    "PartialUpdateWebhook": row({"id": "webhook"}, lambda w: {"events": ["worker_run.created",
                                                                         "worker.created"]}),
    "DestroyWebhook": row({"id": "webhook"}),
    "RetrieveWebhookDeliveries": row({"id": "webhook"}),
    "RetrieveWebhookChanges": row({"id": "webhook"}),
    "ResumeWebhook": row({"id": "webhook"}),
    "ReplayWebhook": row({"id": "webhook"}, lambda w: {"from_position": 1}),
    "RotateWebhookSecret": row({"id": "webhook"}, lambda w: {}),
    "SendWebhookTestEvent": row({"id": "webhook"}),
}

OPERATIONS: list[tuple[Route, Operation]] = [(route, op) for route in ROUTES for op in route.operations]


def test_every_operation_has_a_row() -> None:
    ids = {op.operation_id for _, op in OPERATIONS}
    assert ids - set(ROWS) == set(), "add a row for each new operation"
    assert set(ROWS) - ids == set(), "remove the rows of operations that no longer exist"


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def call(client: falcon.testing.TestClient, route: Route, op: Operation, world: World,
         user: ApiUser | None, *, unknown_ids: bool = False) -> tuple[Answer, set[str]]:
    """One request; returns the answer and the ids the request itself named. With
    `unknown_ids`, every id of Alice's in the request is replaced by a fresh one."""
    params, body, query = ROWS[op.operation_id](world)
    request = json.dumps([params, body, query])
    named = set(UUID_RE.findall(request))
    if unknown_ids:
        for known in named & world.ids:
            request = request.replace(known, str(uuid.uuid4()))
        params, body, query = json.loads(request)
    path = route.path
    for key, value in params.items():
        path = path.replace("{" + key + "}", value)
    kwargs: dict[str, Any] = {"headers": dict(user.headers) if user else {}, "params": query}
    if body is not None:
        kwargs["json"] = body
    result = client.simulate_request(op.method, path, **kwargs)
    return Answer(result.status_code, result.text), named


@dataclass
class Fresh:
    """A fresh world per operation: Alice's objects, Bob, an administrator."""

    client: falcon.testing.TestClient
    world: World
    alice: ApiUser
    bob: ApiUser
    admin: ApiUser


@pytest.fixture
def fresh(container: Container, iiif: IIIFServer, projector: BackgroundProjector) -> Fresh:
    client = falcon.testing.TestClient(create_app(container))
    alice = make_user(container, "alice")
    world = build_world(Api(client, alice), iiif)
    return Fresh(client, world, alice, make_user(container, "bob"), make_user(container, "root", admin=True))


#: operations whose documented answer to the owner is not a success
OWNER_ANSWERS = {
    "Login": 400,  # a wrong password: the matrix does not know Alice's
    "StartWorkerActivity": 404,  # Arkindex answers 404 to a user worker run (arkindex-api.md)
}
#: images are shared, as in Arkindex: the CLI recovers anyone's known image by its URL
SHARED = {"RetrieveImage", "PartialUpdateImage"}


def _shape(answer: Answer) -> Any:
    """The answer with every id blanked: what an unknown id and a hidden one must share."""
    text = UUID_RE.sub("<id>", answer.text)
    try:
        return answer.status, json.loads(text)
    except ValueError:
        return answer.status, text


def _documented(op: Operation) -> set[int]:
    return {op.status, *op.also, *op.errors, 400} | (set() if op.public else {401})


def _leaks(fresh: Fresh, answer: Answer, named: set[str]) -> set[str]:
    leaked = (fresh.world.ids - named) & set(UUID_RE.findall(answer.text))
    return {name for name, value in fresh.world.refs.items() if value in leaked}


@pytest.mark.parametrize(("route", "op"), OPERATIONS, ids=[op.operation_id for _, op in OPERATIONS])
def test_operation_by_each_actor(fresh: Fresh, route: Route, op: Operation) -> None:
    def as_(user: ApiUser | None, **kwargs: Any) -> tuple[Answer, set[str]]:
        return call(fresh.client, route, op, fresh.world, user, **kwargs)

    def owner_succeeds() -> None:
        owner, _ = as_(fresh.alice)
        assert owner.status in {op.status, *op.also} | {OWNER_ANSWERS.get(op.operation_id, op.status)}, owner

    # The owner first (her write then also shows in what the others may not see), except a
    # deletion: the others must meet her object, not its absence.
    if op.method != "DELETE":
        owner_succeeds()

    anonymous, named = as_(None)
    if op.public:
        assert anonymous.status in _documented(op), anonymous
    else:
        assert anonymous.status == 401, anonymous
    assert not _leaks(fresh, anonymous, named), anonymous.text

    other, named = as_(fresh.bob)
    assert other.status in _documented(op), other
    assert not _leaks(fresh, other, named), f"Bob sees {_leaks(fresh, other, named)}: {other.text}"
    if named & fresh.world.ids and op.operation_id not in SHARED:
        # Alice's objects answer Bob exactly as ids that do not exist: no existence oracle.
        unknown, _ = as_(fresh.bob, unknown_ids=True)
        assert _shape(other) == _shape(unknown), (other, unknown)
        assert other.status not in {op.status, *op.also} or op.method != "GET", other

    if op.method == "DELETE":
        owner_succeeds()

    administrator, _ = as_(fresh.admin)
    assert administrator.status in _documented(op), administrator
    if op.method == "GET":  # an administrator reads everything (signing stays personal)
        assert administrator.status == op.status, administrator
