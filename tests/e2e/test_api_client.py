"""The unmodified official `arkindex-client` against a real HTTP server, and 64 concurrent
CreateUserWorkerRun requests over real HTTP on PostgreSQL.

The server is a threaded wsgiref server running `create_app(container)` in a background
thread, with the projections kept up to date by another thread (tests/api_support.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from arkindex import ArkindexClient, options_from_env
from arkindex.exceptions import (
    ArkindexClientError,
    ArkindexConflictError,
    ArkindexValidationError,
    ClientError,
    ErrorResponse,
)

from api.app import create_app
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from tests.api_support import ApiUser, BackgroundProjector, ServerThread, make_user
from tests.conftest import PostgresSchema, settings_for
from worker_runs.bootstrap import Container, bootstrap


@pytest.mark.parametrize("api_path", ["", "api/v1"])
def test_arkindex_client_session(
    server: ServerThread, container: Container, monkeypatch: pytest.MonkeyPatch, api_path: str,
) -> None:
    user = make_user(container, "alice")
    # Configured exactly as users configure it: environment variables, both URL forms.
    monkeypatch.setenv("ARKINDEX_API_URL", server.url + api_path)
    monkeypatch.setenv("ARKINDEX_API_TOKEN", user.token)
    client = ArkindexClient(**options_from_env())

    # A worker with a type nobody created yet, a version with only a Docker image tag.
    worker = client.request("CreateWorker", body={"name": "My local OCR", "slug": "my-local-ocr",
                                                  "type": "Experimental OCR"})
    assert worker["type"] == "experimental-ocr"
    types = [t["slug"] for t in client.paginate("ListWorkerTypes")]
    assert "experimental-ocr" in types
    assert client.request("CreateWorker", body={"name": "My local OCR", "slug": "my-local-ocr",
                                                "type": "Experimental OCR"})["id"] == worker["id"]
    version = client.request("CreateWorkerVersion", id=worker["id"], body={"docker_image_iid": "python:3.11"})
    assert (version["version"], version["docker_image_iid"]) == (1, "python:3.11")

    run = client.request("CreateUserWorkerRun", body={"worker_version_id": version["id"]})
    assert run["process"]["mode"] == "local"
    assert run["summary"] == "Worker My local OCR @ version 1"

    # A second run for the same version: a typed validation error carrying the first run's id.
    with pytest.raises(ArkindexValidationError) as caught:
        client.request("CreateUserWorkerRun", body={"worker_version_id": version["id"]})
    assert caught.value.status_code == 400
    assert caught.value.content["existing_id"] == run["id"]
    assert caught.value.content["errors"][0]["code"] == "unique"
    assert caught.value.content["errors"][0]["attr"] == ["worker_version_id"]

    # More runs, then the client's own pagination over several pages (it requests pages
    # 2..N directly from `count`, so counts and page sizes must be exact).
    more = [client.request("CreateUserWorkerRun", body={
        "worker_version_id": client.request("CreateWorkerVersion", id=worker["id"], body={})["id"],
    }) for _ in range(6)]
    runs = client.paginate("ListUserWorkerRuns", page_size=3)
    assert len(runs) == 7
    listed = list(runs)
    assert [r["id"] for r in listed] == [r["id"] for r in reversed([run, *more])]

    retrieved = client.request("RetrieveWorkerRun", id=run["id"])
    assert retrieved == run
    assert client.request("RetrieveWorkerRunConfiguration", id=run["id"]) == {"configuration": []}
    assert client.request("RetrieveUser")["display_name"] == "alice"
    found = list(client.paginate("ListWorkers", name="LOCAL", type="experimental-ocr", archived=False))
    assert [w["id"] for w in found] == [worker["id"]]
    versions = list(client.paginate("ListWorkerVersions", id=worker["id"], page_size=2))
    assert [v["version"] for v in versions] == [7, 6, 5, 4, 3, 2, 1]

    # The other typed errors: 409 with existing_id, 404.
    client.request("PartialUpdateWorkerVersion", id=version["id"], body={"tag": "0.1"})
    with pytest.raises(ArkindexConflictError) as conflict:
        client.request("CreateWorkerVersion", id=worker["id"], body={"tag": "0.1"})
    assert conflict.value.content["existing_id"] == version["id"]
    with pytest.raises(ArkindexClientError) as missing:
        client.request("RetrieveWorkerRun", id="00000000-0000-4000-8000-000000000000")
    assert missing.value.status_code == 404
    # Undeclared parameters are refused by the client itself, before any request.
    with pytest.raises(ClientError):
        client.request("ListWorkers", colour="red")


def test_client_errors_without_token_and_for_another_users_run(
    server: ServerThread, container: Container,
) -> None:
    alice, bob = make_user(container, "alice"), make_user(container, "bob")
    anonymous = ArkindexClient(base_url=server.url)  # the schema needs no token
    with pytest.raises(ArkindexClientError) as caught:
        anonymous.request("ListUserWorkerRuns")
    assert caught.value.status_code == 401
    assert caught.value.content["errors"][0]["code"] == "not_authenticated"

    alices = ArkindexClient(token=alice.token, base_url=server.url)
    worker = alices.request("CreateWorker", body={"name": "OCR", "slug": "ocr", "type": "ocr"})
    run = alices.request("CreateUserWorkerRun", body={
        "worker_version_id": alices.request("CreateWorkerVersion", id=worker["id"], body={})["id"],
    })
    bobs = ArkindexClient(token=bob.token, base_url=server.url)
    for operation in ("RetrieveWorkerRun", "RetrieveWorkerRunConfiguration", "RetrieveWorker"):
        with pytest.raises(ErrorResponse) as hidden:
            bobs.request(operation, id=run["id"] if "Run" in operation else worker["id"])
        assert hidden.value.status_code == 404
    assert len(bobs.paginate("ListUserWorkerRuns")) == 0
    assert len(bobs.paginate("ListWorkers")) == 0


def test_create_then_list_over_http_sees_it_every_time(server: ServerThread, container: Container) -> None:
    user = make_user(container, "alice")
    client = ArkindexClient(token=user.token, base_url=server.url)
    worker = client.request("CreateWorker", body={"name": "OCR", "slug": "ocr", "type": "ocr"})
    for _ in range(10):
        version = client.request("CreateWorkerVersion", id=worker["id"], body={})
        run = client.request("CreateUserWorkerRun", body={"worker_version_id": version["id"]})
        first = client.request("ListUserWorkerRuns", page_size=1)["results"][0]
        assert first["id"] == run["id"]


# --- 64 concurrent requests ------------------------------------------------------------------------


@pytest.fixture
def race_server(backend: str, tmp_path: Path) -> Iterator[tuple[ServerThread, Container]]:
    schema = PostgresSchema() if backend == "postgres" else None
    if schema is not None:
        # A bounded pool: 64 request threads share 24 connections (PostgreSQL's own limit
        # is shared with every other test run on this server).
        engine = schema.engine(pool_size=12, max_overflow=12, pool_timeout=60)
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    upgrade(engine)
    container = bootstrap(settings_for(engine, tmp_path), engine=engine)
    projector = BackgroundProjector(engine).start()
    try:
        with ServerThread(create_app(container)) as running:
            yield running, container
    finally:
        projector.stop()
        engine.dispose()
        if schema is not None:
            schema.drop()


def test_64_concurrent_user_runs_for_one_version(race_server: tuple[ServerThread, Container]) -> None:
    server, container = race_server
    user: ApiUser = make_user(container, "racer")
    headers = {**user.headers, "Content-Type": "application/json"}
    setup = requests.Session()
    api = f"{server.url}api/v1"
    worker = setup.post(f"{api}/workers/", json={"name": "Race", "type": "ocr"}, headers=headers).json()
    version = setup.post(f"{api}/workers/{worker['id']}/versions/", json={}, headers=headers).json()

    start = threading.Barrier(64)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def create() -> None:
        with requests.Session() as session:
            start.wait()
            response = session.post(f"{server.url}api/v1/process/workers/", headers=headers, timeout=120,
                                    json={"worker_version_id": version["id"]})
            with lock:
                answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=create) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 400: 63}, statuses
    winner = next(body for status, body in answers if status == 201)
    losers = [body for status, body in answers if status == 400]
    assert {body["existing_id"] for body in losers} == {winner["id"]}
    assert all(body["errors"][0]["code"] == "unique" for body in losers)
    listed = setup.get(f"{server.url}api/v1/process/workers/", headers=headers).json()
    assert [r["id"] for r in listed["results"]] == [winner["id"]]
