"""API: workers, worker types, versions, configurations, models, the user, auth, pagination
and the error shape (TestClient; SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.routes import ROUTES
from tests.api_support import Api, ApiUser, assert_error, grant, revoke
from worker_runs.bootstrap import Container

# --- workers -------------------------------------------------------------------------------------


def test_create_worker_creates_its_type_on_the_fly_and_gets_or_creates_by_slug(api: Api) -> None:
    body = {"name": "Line OCR", "slug": "line-ocr", "type": "Handwritten OCR"}
    created = api.post("/api/v1/workers/", body)
    assert created.status_code == 201
    assert created.headers["X-Event-Position"].isdigit()
    worker = created.json
    assert worker == {
        "id": worker["id"], "name": "Line OCR", "slug": "line-ocr", "type": "handwritten-ocr",
        "description": "", "repository_url": None, "archived": False,
    }
    types = api.get("/api/v1/workers/types/").json
    assert [(t["slug"], t["display_name"]) for t in types["results"]] == [
        ("handwritten-ocr", "Handwritten OCR")]
    uuid.UUID(types["results"][0]["id"])

    again = api.post("/api/v1/workers/", {"name": "Other name", "slug": "line-ocr", "type": "whatever"})
    assert again.status_code == 200
    assert again.json == worker


def test_create_worker_slug_defaults_to_the_name(api: Api) -> None:
    result = api.post("/api/v1/workers/", {"name": "Tesseract 5 (fra)", "type": "ocr"})
    assert result.status_code == 201
    assert result.json["slug"] == "tesseract-5-fra"
    assert_error(api.post("/api/v1/workers/", {"name": "日本語", "type": "ocr"}), 400, "validation_error",
                 "required", ["slug"])


def test_a_slug_taken_by_a_private_worker_is_a_unique_error_without_its_id(api: Api, bob: ApiUser) -> None:
    api.create_worker("Mine", slug="mine")
    body = assert_error(
        api.as_user(bob).post("/api/v1/workers/", {"name": "Mine too", "slug": "mine", "type": "ocr"}),
        400, "validation_error", "unique", ["slug"],
    )
    assert "existing_id" not in body


@pytest.mark.parametrize(("body", "code", "attr"), [
    ({"slug": "x", "type": "ocr"}, "required", ["name"]),
    ({"name": "x", "slug": "x"}, "required", ["type"]),
    ({"name": 5, "slug": "x", "type": "ocr"}, "invalid", ["name"]),
    ({"name": "x", "slug": "x", "type": "ocr", "colour": "red"}, "unknown_field", ["colour"]),
    ({"name": "", "slug": "x", "type": "ocr"}, "min_length", ["name"]),
    ({"name": "x" * 101, "slug": "x", "type": "ocr"}, "max_length", ["name"]),
    ({"name": "x", "slug": "not a slug!", "type": "ocr"}, "invalid", ["slug"]),
    ({"name": "a\u0000b", "slug": "x", "type": "ocr"}, "invalid", ["name"]),
    ({"name": "x", "slug": "x", "type": "ocr", "repository_url": ["no"]}, "invalid", ["repository_url"]),
    ({"name": "   ", "slug": "x", "type": "ocr"}, "invalid", ["name"]),
    ({"name": "x", "slug": "x", "type": "---"}, "invalid", ["type"]),
    ([{"name": "x"}], "invalid", None),
    (None, "invalid", None),
    ("text", "invalid", None),
])
def test_create_worker_validation(api: Api, body: Any, code: str, attr: list[str] | None) -> None:
    result = api.post("/api/v1/workers/", body=json.dumps(body), headers={"Content-Type": "application/json"})
    assert_error(result, 400, "validation_error", code, attr)


@pytest.mark.parametrize("raw", [
    "{bad json", '{"name": NaN, "slug": "x", "type": "t"}', '{"name": "x", "a": Infinity}',
    "[" * 100_000 + "]" * 100_000, '{"name": "\\ud800", "slug": "x", "type": "t"}', "\xff\xfe",
])
def test_malformed_bodies_are_400_never_500(api: Api, raw: str) -> None:
    result = api.post("/api/v1/workers/", body=raw.encode("utf-8", "surrogatepass"),
                      headers={"Content-Type": "application/json"})
    body = assert_error(result, 400, "validation_error", result.json["errors"][0]["code"])
    assert body["errors"][0]["code"] in ("parse_error", "invalid")


def test_empty_body_and_wrong_content_type(api: Api) -> None:
    assert_error(api.post("/api/v1/workers/", body=b"", headers={"Content-Type": "application/json"}),
                 400, "validation_error", "required", ["name"])
    assert_error(api.post("/api/v1/workers/", body=b"name=x", headers={"Content-Type": "text/plain"}),
                 415, "client_error", "unsupported_media_type", None)


def test_oversized_body_is_413(api: Api) -> None:
    body = json.dumps({"name": "x", "slug": "x", "type": "t", "description": "d" * (1024 * 1024)})
    assert_error(api.post("/api/v1/workers/", body=body, headers={"Content-Type": "application/json"}),
                 413, "client_error", "too_large", None)


def test_list_workers_filters_and_visibility(
    api: Api, bob: ApiUser, admin: ApiUser, container: Container,
) -> None:
    api.create_worker("Zeta recognizer", type="recognizer")
    api.create_worker("alpha 100% classifier", slug="alpha", type="classifier")
    api.create_worker("beta_under", slug="beta", type="classifier")
    shared = api.create_worker("Shared", type="recognizer")
    archived = api.create_worker("Old OCR", type="recognizer")
    assert api.patch(f"/api/v1/workers/{archived['id']}/", {"archived": True}).status_code == 200
    bobs = api.as_user(bob).create_worker("Bob's OCR", slug="bob-ocr", type="recognizer")

    def names(user_api: Api, **params: Any) -> list[str]:
        result = user_api.get("/api/v1/workers/", params=params)
        assert result.status_code == 200, result.json
        assert result.json["count"] == len(result.json["results"])
        return [w["name"] for w in result.json["results"]]

    # Own workers, by name (case-sensitive collation aside, the order is stable), archived hidden.
    assert sorted(names(api)) == sorted(["Zeta recognizer", "alpha 100% classifier", "beta_under", "Shared"])
    assert names(api, type="classifier") == ["alpha 100% classifier", "beta_under"]
    assert names(api, name="RECOG") == ["Zeta recognizer"]
    assert names(api, name="%") == ["alpha 100% classifier"]  # % matches literally
    assert names(api, name="_") == ["beta_under"]  # so does _
    assert names(api, name="a_u") == ["beta_under"]
    assert names(api, archived="true") == ["Old OCR"]
    assert names(api, archived="false", type="nope") == []
    # Private workers are invisible to others; granted ones are visible; admins see all.
    assert names(api.as_user(bob)) == ["Bob's OCR"]
    position = grant(container, _user_of(api), shared["id"], bob)
    assert sorted(names(api.as_user(bob), min_position=position)) == ["Bob's OCR", "Shared"]
    assert len(names(api.as_user(admin))) == 5
    everything = api.get("/api/v1/workers/", params={"page_size": 500}).json["results"]
    assert bobs["id"] not in [w["id"] for w in everything]


def test_owned_and_granted_workers_page_as_one_list_by_name(
    api: Api, bob: ApiUser, container: Container,
) -> None:
    """The visible workers are read as two index ranges (owned, granted by others): their pages
    interleave by name, count each worker once (a grant to the owner adds nothing) and end."""
    owner = _user_of(api)
    for name in ("a own", "c own", "e own"):
        api.create_worker(name)
    mine = api.create_worker("g own")
    theirs = [api.as_user(bob).create_worker(name) for name in ("b shared", "d shared", "f not shared")]
    position = 0
    for worker in theirs[:2]:
        position = grant(container, bob, worker["id"], owner)
    position = max(position, grant(container, owner, mine["id"], owner))
    pages = [api.get("/api/v1/workers/", params={"page_size": 2, "page": page, "min_position": position}).json
             for page in (1, 2, 3)]
    assert [[w["name"] for w in page["results"]] for page in pages] == [
        ["a own", "b shared"], ["c own", "d shared"], ["e own", "g own"]]
    assert {page["count"] for page in pages} == {6}
    assert pages[2]["next"] is None
    assert api.get("/api/v1/workers/", params={"page_size": 2, "page": 4}).status_code == 404
    assert [w["name"] for w in api.get("/api/v1/workers/", params={"name": "SHARED"}).json["results"]] == [
        "b shared", "d shared"]


def _user_of(api: Api) -> ApiUser:
    assert api.user is not None
    return api.user


def test_retrieve_and_update_worker(api: Api, bob: ApiUser, admin: ApiUser, container: Container) -> None:
    worker = api.create_worker("OCR", type="ocr")
    path = f"/api/v1/workers/{worker['id']}/"
    assert api.get(path).json == worker
    # Someone else's private worker does not exist for them (404, never 403).
    assert_error(api.as_user(bob).get(path), 404, "client_error", "not_found", None)
    assert_error(api.as_user(bob).patch(path, {"name": "mine"}), 404, "client_error", "not_found", None)
    assert api.as_user(admin).get(path).status_code == 200
    # Shared with bob: he may read it, not change it.
    position = grant(container, _user_of(api), worker["id"], bob)
    assert api.as_user(bob).get(path, headers={"X-Min-Event-Position": str(position)}).status_code == 200
    assert_error(api.as_user(bob).patch(path, {"name": "mine"}), 403, "client_error", "permission_denied",
                 None)

    updated = api.patch(path, {"name": "Better OCR", "type": "Text recognition", "description": "**md**"})
    assert updated.status_code == 200
    assert updated.json == {
        **worker, "name": "Better OCR", "type": "text-recognition", "description": "**md**"}
    assert "text-recognition" in [t["slug"] for t in api.get("/api/v1/workers/types/").json["results"]]
    assert api.patch(path, {}).json == updated.json
    assert_error(api.patch(path, {"slug": "nope"}), 400, "validation_error", "unknown_field", ["slug"])
    assert_error(api.patch(path, {"archived": "maybe"}), 400, "validation_error", "invalid", ["archived"])


@pytest.mark.parametrize("path", [
    "/api/v1/workers/not-a-uuid/", "/api/v1/workers/123/versions/", "/api/v1/process/workers/%00/",
    f"/api/v1/workers/{uuid.uuid4()}/", f"/api/v1/workers/versions/{uuid.uuid4()}/",
    f"/api/v1/workers/{uuid.uuid4()}/versions/", f"/api/v1/workers/{uuid.uuid4()}/configurations/",
    f"/api/v1/workers/configurations/{uuid.uuid4()}/", f"/api/v1/model/{uuid.uuid4()}/",
    f"/api/v1/model/{uuid.uuid4()}/versions/", f"/api/v1/modelversion/{uuid.uuid4()}/",
    f"/api/v1/process/workers/{uuid.uuid4()}/", f"/api/v1/workers/runs/{uuid.uuid4()}/configuration/",
    "/api/v1/nothing-here/", "/api/v1/workers",
])
def test_unknown_objects_and_paths_are_404(api: Api, path: str) -> None:
    assert_error(api.get(path), 404, "client_error", "not_found", None)


def test_unsupported_method_is_405(api: Api) -> None:
    result = api.client.simulate_delete("/api/v1/workers/", headers=_user_of(api).headers)
    assert_error(result, 405, "client_error", "method_not_allowed", None)
    assert "GET" in result.headers["Allow"]


# --- versions ------------------------------------------------------------------------------------


def test_worker_versions(api: Api, bob: ApiUser) -> None:
    worker = api.create_worker("OCR", type="ocr")
    versions_path = f"/api/v1/workers/{worker['id']}/versions/"
    first = api.create_version(worker["id"])
    assert first == {
        "id": first["id"],
        "worker": {k: worker[k] for k in ("id", "name", "slug", "type", "description", "repository_url")},
        "version": 1, "revision_url": None, "configuration": {}, "docker_image_iid": None,
        "state": "available", "gpu_usage": "disabled", "model_usage": "disabled", "tag": None, "branch": None,
        "created": first["created"], "archived": False,
    }
    second = api.create_version(worker["id"], docker_image_iid="registry/ocr:2", tag="v2",
                                configuration={"lang": "fra", "nested": {"x": [1, 2.5, None]}},
                                gpu_usage="supported", model_usage="required", branch="main", state="created")
    assert (second["version"], second["docker_image_iid"], second["tag"], second["state"]) == (
        2, "registry/ocr:2", "v2", "created")
    assert second["configuration"] == {"lang": "fra", "nested": {"x": [1, 2.5, None]}}
    git = api.create_version(worker["id"], revision_url="https://git.example.org/ocr/commit/0123456789abcdef")
    assert git["version"] is None  # Git-linked versions carry their revision instead

    listed = api.get(versions_path).json
    assert [v["id"] for v in listed["results"]] == [git["id"], second["id"], first["id"]]  # newest first
    created = api.get(versions_path, params={"state": "created"}).json["results"]
    assert [v["id"] for v in created] == [second["id"]]

    version_path = f"/api/v1/workers/versions/{second['id']}/"
    assert api.get(version_path).json == second
    patched = api.patch(version_path, {"tag": "v2.1", "archived": True})
    assert patched.status_code == 200
    assert (patched.json["tag"], patched.json["archived"]) == ("v2.1", True)
    archived = api.get(versions_path, params={"archived": "true"}).json["results"]
    assert [v["id"] for v in archived] == [second["id"]]

    # A duplicate tag: 409 with the existing version, as the CLI expects.
    body = assert_error(api.post(versions_path, {"tag": "v2.1"}), 409, "client_error", "unique", ["tag"])
    assert body["existing_id"] == second["id"]
    assert_error(api.post(versions_path, {"gpu_usage": "always"}), 400, "validation_error", "invalid_choice",
                 ["gpu_usage"])
    assert_error(api.post(versions_path, {"configuration": [1]}), 400, "validation_error", "invalid",
                 ["configuration"])
    assert_error(api.post(versions_path, {"version": 7}), 400, "validation_error", "unknown_field",
                 ["version"])
    assert_error(api.post(versions_path, {"configuration": {"k": "a\u0000"}}), 400, "validation_error",
                 "invalid", ["configuration"])

    # Bob cannot see, list, create or change any of it.
    bob_api = api.as_user(bob)
    assert_error(bob_api.get(versions_path), 404, "client_error", "not_found", None)
    assert_error(bob_api.post(versions_path, {}), 404, "client_error", "not_found", None)
    assert_error(bob_api.get(version_path), 404, "client_error", "not_found", None)
    assert_error(bob_api.patch(version_path, {"tag": "x"}), 404, "client_error", "not_found", None)


def test_version_numbers_are_assigned_in_order(api: Api) -> None:
    worker = api.create_worker("OCR", type="ocr")
    numbers = [api.create_version(worker["id"])["version"] for _ in range(5)]
    # No body at all is the same as an empty one: every field is optional.
    path = f"/api/v1/workers/{worker['id']}/versions/"
    bare = api.client.simulate_post(path, headers=_user_of(api).headers)
    assert bare.status_code == 201
    assert [*numbers, bare.json["version"]] == [1, 2, 3, 4, 5, 6]


# --- configurations and models -------------------------------------------------------------------


def test_worker_configurations(api: Api, bob: ApiUser) -> None:
    worker = api.create_worker("OCR", type="ocr")
    path = f"/api/v1/workers/{worker['id']}/configurations/"
    created = api.post(path, {"name": "French", "configuration": {"lang": "fra", "token": "s3cr3t"},
                              "secret_keys": ["token"]})
    assert created.status_code == 201, created.json
    configuration = created.json
    assert configuration == {"id": configuration["id"], "name": "French",
                             "configuration": {"lang": "fra", "token": "s3cr3t"}, "secret_keys": ["token"],
                             "archived": False}
    other = api.post(path, {"name": "English", "configuration": {}}).json
    assert [c["name"] for c in api.get(path).json["results"]] == ["English", "French"]
    assert api.get(f"/api/v1/workers/configurations/{other['id']}/").json == other

    assert_error(api.post(path, {"configuration": {}}), 400, "validation_error", "required", ["name"])
    assert_error(api.post(path, {"name": "x"}), 400, "validation_error", "required", ["configuration"])
    assert_error(api.post(path, {"name": "x", "configuration": {}, "secret_keys": ["nope"]}), 400,
                 "validation_error", "invalid", ["secret_keys"])
    assert_error(api.as_user(bob).get(path), 404, "client_error", "not_found", None)
    assert_error(api.as_user(bob).post(path, {"name": "x", "configuration": {}}), 404, "client_error",
                 "not_found", None)
    assert_error(api.as_user(bob).get(f"/api/v1/workers/configurations/{other['id']}/"), 404, "client_error",
                 "not_found", None)


def test_models_and_model_versions(api: Api, bob: ApiUser, admin: ApiUser) -> None:
    created = api.post("/api/v1/models/", {"name": "HTR model", "description": "A model"})
    assert created.status_code == 201
    model = created.json
    assert model == {
        "id": model["id"], "name": "HTR model", "description": "A model", "created": model["created"]}
    api.post("/api/v1/models/", {"name": "Another"})
    assert [m["name"] for m in api.get("/api/v1/models/").json["results"]] == ["Another", "HTR model"]
    assert api.get(f"/api/v1/model/{model['id']}/").json == model

    versions_path = f"/api/v1/model/{model['id']}/versions/"
    first = api.post(versions_path, {"configuration": {"epochs": 3}, "tag": "first"})
    assert first.status_code == 201
    assert first.json == {
        "id": first.json["id"], "model": {"id": model["id"], "name": "HTR model"}, "number": 1,
        "tag": "first", "state": "available", "configuration": {"epochs": 3}, "s3_url": None,
        "created": first.json["created"],
    }
    second = api.post(versions_path, {}).json
    assert [v["number"] for v in api.get(versions_path).json["results"]] == [2, 1]
    assert api.get(f"/api/v1/modelversion/{second['id']}/").json == second

    bob_api = api.as_user(bob)
    assert bob_api.get("/api/v1/models/").json["count"] == 0
    assert_error(bob_api.get(f"/api/v1/model/{model['id']}/"), 404, "client_error", "not_found", None)
    assert_error(bob_api.get(versions_path), 404, "client_error", "not_found", None)
    assert_error(bob_api.post(versions_path, {}), 404, "client_error", "not_found", None)
    assert_error(bob_api.get(f"/api/v1/modelversion/{second['id']}/"), 404, "client_error", "not_found", None)
    assert api.as_user(admin).get(f"/api/v1/modelversion/{second['id']}/").status_code == 200
    assert_error(api.post("/api/v1/models/", {"description": "no name"}), 400, "validation_error", "required",
                 ["name"])


# --- users and authentication ----------------------------------------------------------------------


def test_retrieve_user(api: Api, admin: ApiUser) -> None:
    me = api.get("/api/v1/user/").json
    assert me == {"id": _user_of(api).user_id, "email": "alice@example.org", "display_name": "alice",
                  "admin": False, "verified_email": True, "features": {}}
    assert api.as_user(admin).get("/api/v1/user/").json["admin"] is True


@pytest.mark.parametrize("header", [
    None, "", "Token", "Token ", "Token nope", "Bearer {token}", "Ponos {token}", "Token {token}x", "{token}",
])
def test_unauthenticated_requests_are_401(api: Api, header: str | None) -> None:
    token = _user_of(api).token
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    for path in ("/api/v1/workers/", "/api/v1/process/workers/", "/api/v1/user/"):
        result = api.client.simulate_get(path, headers=headers)
        assert_error(result, 401, "client_error", "not_authenticated", None)
    assert_error(api.client.simulate_post("/api/v1/workers/", json={}, headers=headers), 401, "client_error",
                 "not_authenticated", None)


def test_a_revoked_token_stops_working_at_once(api: Api, container: Container) -> None:
    assert api.get("/api/v1/user/").status_code == 200
    revoke(container, _user_of(api))
    assert_error(api.get("/api/v1/user/"), 401, "client_error", "not_authenticated", None)


def test_token_scheme_is_case_insensitive(api: Api) -> None:
    headers = {"Authorization": f"token {_user_of(api).token}"}
    result = api.client.simulate_get("/api/v1/user/", headers=headers)
    assert result.status_code == 200


# --- pagination ------------------------------------------------------------------------------------


def test_page_number_pagination(api: Api) -> None:
    for i in range(7):
        api.create_worker(f"Worker {i}", type="ocr")
    first = api.get("/api/v1/workers/", params={"page_size": 3, "type": "ocr"})
    assert first.status_code == 200
    body = first.json
    assert (body["count"], body["number"], body["previous"]) == (7, 1, None)
    assert body["next"] == "http://falconframework.org/api/v1/workers/?page_size=3&type=ocr&page=2"
    seen = [w["name"] for w in body["results"]]
    page2 = api.get("/api/v1/workers/", params={"page_size": 3, "type": "ocr", "page": 2}).json
    assert page2["previous"] == "http://falconframework.org/api/v1/workers/?page_size=3&type=ocr"
    last = api.get("/api/v1/workers/", params={"page_size": 3, "type": "ocr", "page": 3}).json
    assert last["next"] is None and last["number"] == 3 and len(last["results"]) == 1
    seen += [w["name"] for w in page2["results"]] + [w["name"] for w in last["results"]]
    assert seen == [f"Worker {i}" for i in range(7)]  # stable, complete, no duplicates
    assert_error(api.get("/api/v1/workers/", params={"page_size": 3, "page": 4}), 404, "client_error",
                 "not_found", None)
    # The default page size is 20; page 1 of an empty list exists.
    assert len(api.get("/api/v1/workers/").json["results"]) == 7
    empty = api.get("/api/v1/workers/", params={"type": "none"}).json
    assert (empty["count"], empty["results"], empty["next"]) == (0, [], None)


@pytest.mark.parametrize(("params", "code", "attr"), [
    ({"page": "0"}, "min_value", ["page"]),
    ({"page": "x"}, "invalid", ["page"]),
    ({"page": ""}, "invalid", ["page"]),
    ({"page_size": "501"}, "max_value", ["page_size"]),
    ({"page_size": "0"}, "min_value", ["page_size"]),
    ({"page": ["1", "2"]}, "invalid", ["page"]),
    ({"archived": "perhaps"}, "invalid", ["archived"]),
    ({"cursor": "abc"}, "unknown_field", ["cursor"]),
    ({"min_position": "-1"}, "min_value", ["min_position"]),
    ({"name": "a\u0000"}, "invalid", ["name"]),
])
def test_bad_query_parameters_are_400(api: Api, params: dict[str, Any], code: str, attr: list[str]) -> None:
    assert_error(api.get("/api/v1/workers/", params=params), 400, "validation_error", code, attr)


def test_huge_page_number_is_a_404_not_an_overflow(api: Api) -> None:
    api.create_worker("OCR", type="ocr")
    result = api.get("/api/v1/workers/", params={"page": str(10**30)})
    assert_error(result, 404, "client_error", "not_found", None)


# --- request ids -------------------------------------------------------------------------------------


def test_request_id_is_echoed_or_made(api: Api) -> None:
    result = api.get("/api/v1/user/", headers={"X-Request-ID": "abc-123"})
    assert result.headers["X-Request-ID"] == "abc-123"
    made = api.get("/api/v1/user/", headers={"X-Request-ID": "not ok!" * 20}).headers["X-Request-ID"]
    uuid.UUID(made)
    assert api.get("/api/v1/nothing/").headers["X-Request-ID"]


def test_request_id_is_the_correlation_id_of_the_events(api: Api, container: Container) -> None:
    api.post("/api/v1/workers/", {"name": "OCR", "type": "ocr"}, headers={"X-Request-ID": "req-42"})
    events = [e for e in container.store.read_all() if e.correlation_id == "req-42"]
    assert {e.event_type for e in events} == {"WorkerTypeCreated", "WorkerCreated"}
    assert {e.actor_id for e in events} == {_user_of(api).user_id}


# --- fuzz: no input makes a 500 ----------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_body_or_query_makes_a_server_error(api: Api, data: st.DataObject) -> None:
    worker = api.get("/api/v1/workers/", params={"name": "fuzz target"}).json["results"]
    if not worker:
        worker = [api.create_worker("fuzz target", type="ocr")]
    worker_id = worker[0]["id"]
    # The live event stream never ends by design (its input validation is tested in
    # tests/e2e/test_sse.py): a simulated request would wait for its whole body.
    targets = [
        (route, op) for route in ROUTES for op in route.operations if op.content_type != "text/event-stream"
    ]
    route, op = data.draw(st.sampled_from(targets))
    path = route.path.replace("{id}", data.draw(st.sampled_from([worker_id, str(uuid.uuid4()), "x"])))
    names = [*op.query.fields, *(op.body.fields if op.body is not None else []), "unknown"]
    params = data.draw(st.dictionaries(st.sampled_from(names), st.text(max_size=12), max_size=3))
    kwargs: dict[str, Any] = {"params": params}
    if op.body is not None:
        body = data.draw(st.dictionaries(st.sampled_from(names), _JSON, max_size=5) | _JSON)
        kwargs["body"] = json.dumps(body)
        kwargs["headers"] = {"Content-Type": "application/json",
                             **data.draw(st.sampled_from([{}, {"Idempotency-Key": "fuzz"}]))}
    result = api.client.simulate_request(op.method, path, **{
        **kwargs, "headers": {**_user_of(api).headers, **kwargs.get("headers", {})},
    })
    assert result.status_code < 500, (op.operation_id, kwargs, result.text)
    assert "Traceback" not in result.text
    if result.status_code >= 400:
        assert result.json["type"] in ("validation_error", "client_error")
