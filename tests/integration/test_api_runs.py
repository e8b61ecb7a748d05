"""API: user worker runs (create, list, retrieve, configuration), privacy between users,
idempotency and read-your-writes (TestClient; SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import falcon.testing

from api.app import create_app
from tests.api_support import Api, ApiUser, BackgroundProjector, assert_error, grant
from worker_runs.bootstrap import Container

RUNS = "/api/v1/process/workers/"


def _setup(api: Api, name: str = "Line OCR", **version_fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    worker = api.create_worker(name, type="ocr")
    return worker, api.create_version(worker["id"], **version_fields)


def test_create_user_worker_run_has_the_arkindex_shape(api: Api) -> None:
    worker, version = _setup(api, docker_image_iid="python:3.11")
    created = api.post(RUNS, {"worker_version_id": version["id"]})
    assert created.status_code == 201
    assert int(created.headers["X-Event-Position"]) > 0
    run = created.json
    me = api.get("/api/v1/user/").json
    assert run == {
        "id": run["id"],
        "parents": [],
        "worker_version": version,
        "model_version": None,
        "configuration": None,
        "process": {
            "id": run["process"]["id"], "name": "Local process", "mode": "local", "corpus": None,
            "state": "unscheduled", "activity_state": "disabled", "model_id": None, "train_folder_id": None,
            "validation_folder_id": None, "test_folder_id": None, "skip_elements_json": False,
        },
        "summary": "Worker Line OCR @ version 1",
        "use_gpu": False,
    }
    assert run["worker_version"]["worker"]["type"] == "ocr"
    uuid.UUID(run["id"])
    # The same personal process for every run of a user.
    other = api.create_run(api.create_version(worker["id"])["id"])
    assert other["process"]["id"] == run["process"]["id"] != me["id"]
    # Retrieve answers the same object; its configuration is empty.
    assert api.get(f"{RUNS}{run['id']}/").json == run
    assert api.get(f"/api/v1/workers/runs/{run['id']}/configuration/").json == {"configuration": []}


def test_run_with_summary_configuration_and_model_version(api: Api) -> None:
    worker, version = _setup(api, gpu_usage="required")
    configuration = api.post(f"/api/v1/workers/{worker['id']}/configurations/", {
        "name": "French", "configuration": {"lang": "fra", "api_key": "s3cr3t", "beam": 5},
        "secret_keys": ["api_key"],
    }).json
    model = api.post("/api/v1/models/", {"name": "HTR"}).json
    model_version = api.post(
        f"/api/v1/model/{model['id']}/versions/", {"configuration": {"size": "big"}},
    ).json
    run = api.create_run(version["id"], configuration_id=configuration["id"],
                         model_version_id=model_version["id"], summary="My own summary")
    assert run["summary"] == "My own summary"
    assert run["use_gpu"] is True
    assert run["configuration"] == configuration
    assert run["model_version"] == model_version
    assert run["model_version"]["model"] == {"id": model["id"], "name": "HTR"}
    assert api.get(f"/api/v1/workers/runs/{run['id']}/configuration/").json == {"configuration": [
        {"key": "api_key", "value": "s3cr3t", "secret": True},
        {"key": "beam", "value": 5, "secret": False},
        {"key": "lang", "value": "fra", "secret": False},
    ]}


def test_a_second_run_for_the_same_version_is_a_unique_error_with_the_existing_id(api: Api) -> None:
    worker, version = _setup(api)
    first = api.create_run(version["id"])
    configuration = api.post(f"/api/v1/workers/{worker['id']}/configurations/",
                             {"name": "c", "configuration": {}}).json
    # Whatever the configuration, model or summary: a new run needs a new version.
    for body in ({}, {"configuration_id": configuration["id"]}, {"summary": "another"}):
        result = api.post(RUNS, {"worker_version_id": version["id"], **body})
        error = assert_error(result, 400, "validation_error", "unique", ["worker_version_id"])
        assert error["existing_id"] == first["id"]
    assert api.get(RUNS).json["count"] == 1
    # A new version takes a new run.
    assert api.create_run(api.create_version(worker["id"])["id"])["id"] != first["id"]


def test_create_run_validation(api: Api, bob: ApiUser) -> None:
    worker, version = _setup(api)
    other_worker, other_version = _setup(api, name="Other")
    other_configuration = api.post(f"/api/v1/workers/{other_worker['id']}/configurations/",
                                   {"name": "c", "configuration": {}}).json
    bobs_model = api.as_user(bob).post("/api/v1/models/", {"name": "Bob's"}).json
    bobs_model_version = api.as_user(bob).post(f"/api/v1/model/{bobs_model['id']}/versions/", {}).json
    bobs_worker, bobs_version = _setup(api.as_user(bob), name="Bob's OCR")
    archived = api.create_version(worker["id"])
    api.patch(f"/api/v1/workers/versions/{archived['id']}/", {"archived": True})

    cases: list[tuple[Any, str, list[str] | None]] = [
        ({}, "required", ["worker_version_id"]),
        ({"worker_version_id": None}, "null", ["worker_version_id"]),
        ({"worker_version_id": "nope"}, "invalid", ["worker_version_id"]),
        ({"worker_version_id": 12}, "invalid", ["worker_version_id"]),
        ({"worker_version_id": str(uuid.uuid4())}, "does_not_exist", ["worker_version_id"]),
        # Bob's private version looks exactly like one that does not exist.
        ({"worker_version_id": bobs_version["id"]}, "does_not_exist", ["worker_version_id"]),
        ({"worker_version_id": archived["id"]}, "invalid", ["worker_version_id"]),
        ({"worker_version_id": version["id"], "configuration_id": other_configuration["id"]},
         "does_not_exist", ["configuration_id"]),
        ({"worker_version_id": version["id"], "configuration_id": str(uuid.uuid4())},
         "does_not_exist", ["configuration_id"]),
        ({"worker_version_id": version["id"], "model_version_id": bobs_model_version["id"]},
         "does_not_exist", ["model_version_id"]),
        ({"worker_version_id": version["id"], "summary": "x" * 501}, "max_length", ["summary"]),
        ({"worker_version_id": version["id"], "parents": []}, "unknown_field", ["parents"]),
        ([version["id"]], "invalid", None),
    ]
    for body, code, attr in cases:
        assert_error(api.post(RUNS, body), 400, "validation_error", code, attr)
    assert api.get(RUNS).json["count"] == 0
    assert other_version["id"] and bobs_worker["id"]


def test_list_user_worker_runs_newest_first_across_pages(api: Api) -> None:
    worker = api.create_worker("OCR", type="ocr")
    runs = [api.create_run(api.create_version(worker["id"])["id"]) for _ in range(7)]
    newest_first = [r["id"] for r in reversed(runs)]
    seen: list[str] = []
    page = 1
    while True:
        body = api.get(RUNS, params={"page": page, "page_size": 3}).json
        assert body["count"] == 7 and body["number"] == page
        seen += [r["id"] for r in body["results"]]
        if body["next"] is None:
            break
        page += 1
    assert (page, seen) == (3, newest_first)
    assert api.get(RUNS).json["results"][0] == runs[-1]
    assert_error(api.get(RUNS, params={"page": 4, "page_size": 3}), 404, "client_error", "not_found", None)


def test_runs_are_private(api: Api, bob: ApiUser, admin: ApiUser, container: Container) -> None:
    worker, version = _setup(api)
    run = api.create_run(version["id"])
    bob_api = api.as_user(bob)
    # Bob sees nothing of it: not in his list, not by id, not its configuration (404, not 403).
    assert bob_api.get(RUNS).json == {"count": 0, "next": None, "previous": None, "number": 1, "results": []}
    assert_error(bob_api.get(f"{RUNS}{run['id']}/"), 404, "client_error", "not_found", None)
    assert_error(bob_api.get(f"/api/v1/workers/runs/{run['id']}/configuration/"), 404, "client_error",
                 "not_found", None)
    # Shared with him, the worker's version gets his own run, which Alice cannot see either.
    position = grant(container, api.user, worker["id"], bob)  # type: ignore[arg-type]
    shared = bob_api.get(f"/api/v1/workers/{worker['id']}/", params={"min_position": position})
    assert shared.status_code == 200
    bobs_run = bob_api.create_run(version["id"])
    assert bobs_run["id"] != run["id"]
    assert [r["id"] for r in bob_api.get(RUNS).json["results"]] == [bobs_run["id"]]
    assert [r["id"] for r in api.get(RUNS).json["results"]] == [run["id"]]
    assert_error(api.get(f"{RUNS}{bobs_run['id']}/"), 404, "client_error", "not_found", None)
    # An admin may retrieve any run, but lists only their own user worker runs.
    admin_api = api.as_user(admin)
    assert admin_api.get(f"{RUNS}{run['id']}/").json == run
    assert admin_api.get(RUNS).json["count"] == 0


# --- idempotency ---------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(api: Api, bob: ApiUser) -> None:
    worker, version = _setup(api)
    key = {"Idempotency-Key": "create-run-1"}
    first = api.post(RUNS, {"worker_version_id": version["id"]}, headers=key)
    again = api.post(RUNS, {"worker_version_id": version["id"]}, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["X-Event-Position"] == first.headers["X-Event-Position"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.get(RUNS).json["count"] == 1

    # Same key, different request: refused.
    other_version = api.create_version(worker["id"])
    assert_error(api.post(RUNS, {"worker_version_id": other_version["id"]}, headers=key), 422, "client_error",
                 "idempotency_key_reused", None)
    # Keys are per user: Bob's identical key is his own.
    bobs_version = _setup(api.as_user(bob), name="Bob's")[1]
    bobs = api.as_user(bob).post(RUNS, {"worker_version_id": bobs_version["id"]}, headers=key)
    assert bobs.status_code == 201
    bad_key = api.post(RUNS, {"worker_version_id": version["id"]}, headers={"Idempotency-Key": "has space"})
    assert_error(bad_key, 400, "validation_error", "invalid", ["Idempotency-Key"])


def test_idempotency_key_on_worker_creation_keeps_the_status(api: Api, container: Container) -> None:
    body = {"name": "OCR", "slug": "ocr", "type": "a brand new type"}
    first = api.post("/api/v1/workers/", body, headers={"Idempotency-Key": "k1"})
    events_after_first = len(container.store.read_all())
    again = api.post("/api/v1/workers/", body, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert len(container.store.read_all()) == events_after_first  # nothing new was written


def test_a_failed_command_with_a_key_fails_the_same_way_again(api: Api) -> None:
    _, version = _setup(api)
    existing = api.create_run(version["id"])
    for _ in range(2):
        result = api.post(RUNS, {"worker_version_id": version["id"]}, headers={"Idempotency-Key": "dup"})
        assert assert_error(result, 400, "validation_error", "unique")["existing_id"] == existing["id"]


# --- read your writes ----------------------------------------------------------------------------


def test_create_then_list_sees_it_every_time_without_header(api: Api) -> None:
    worker = api.create_worker("OCR", type="ocr")
    for i in range(15):
        version = api.create_version(worker["id"])
        run = api.create_run(version["id"])
        listed = api.get(RUNS, params={"page_size": 1}).json["results"]
        assert [r["id"] for r in listed] == [run["id"]], i
        assert api.get(f"{RUNS}{run['id']}/").status_code == 200
        named = api.create_worker(f"Worker number {i}", type="ocr")
        found = api.get("/api/v1/workers/", params={"name": f"number {i}"}).json["results"]
        assert named["id"] in [w["id"] for w in found]


def test_reads_wait_for_a_requested_position_or_say_they_are_stale(
    container: Container, alice: ApiUser,
) -> None:
    # No projector at all, and a short wait: every read is stale, and says so.
    settings = dataclasses.replace(container.settings, read_wait_seconds=0.2)
    quick = dataclasses.replace(container, settings=settings)
    client = Api(falcon.testing.TestClient(create_app(quick)), alice)
    created = client.post("/api/v1/workers/", {"name": "OCR", "type": "ocr"})
    # The command succeeded; the object is not readable yet: its id, marked stale.
    assert created.status_code == 201
    assert created.headers["X-Stale"] == "true"
    assert created.headers["X-Projection-Position"] == "0"
    worker_id = created.json["id"]
    assert created.json == {"id": worker_id}
    listed = client.get("/api/v1/workers/")
    assert listed.status_code == 200 and listed.headers["X-Stale"] == "true"
    assert listed.json["count"] == 0
    position = int(created.headers["X-Event-Position"])
    BackgroundProjector(container.engine).catch_up()
    fresh = client.get(f"/api/v1/workers/{worker_id}/", headers={"X-Min-Event-Position": str(position)})
    assert fresh.status_code == 200 and "X-Stale" not in fresh.headers
    # A position beyond the head cannot be reached: stale, with the reached position.
    ahead = client.get("/api/v1/workers/", params={"min_position": position + 1000})
    assert ahead.headers["X-Stale"] == "true"
    assert int(ahead.headers["X-Projection-Position"]) == position
    assert_error(client.get("/api/v1/workers/", headers={"X-Min-Event-Position": "soon"}), 400,
                 "validation_error", "invalid", ["X-Min-Event-Position"])
