"""API: the document model (issue 5) — corpora, element types, ML classes, elements,
transcriptions, classifications, metadata — and its signing rules and provenance queries
(TestClient; SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from eventstore.schema import events
from tests.api_factories import make_corpus, make_element, make_type, setup_page
from tests.api_support import Api, ApiUser, BackgroundProjector, assert_error
from worker_runs.bootstrap import Container


def _events_by_run(container: Container, run_id: str) -> list[str]:
    with container.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(events.c.event_type)
                .where(events.c.worker_run_id == run_id)
                .order_by(events.c.global_position)
            ).scalars()
        )


# --- corpora, element types, ML classes ----------------------------------------------------------


def test_corpus_with_types_has_the_arkindex_shape(api: Api, bob: ApiUser) -> None:
    corpus = make_corpus(api, "Registers")
    assert corpus["name"] == "Registers" and corpus["types"] == [] and corpus["public"] is False
    page = make_type(api, corpus["id"], "page")
    assert page == {
        "id": page["id"],
        "corpus": corpus["id"],
        "slug": "page",
        "display_name": "Page",
        "folder": False,
        "color": "28b62c",
    }
    read = api.get(f"/api/v1/corpus/{corpus['id']}/").json
    assert [t["slug"] for t in read["types"]] == ["page"]
    assert set(read["types"][0]) >= {"slug", "display_name", "folder", "color"}
    # Private: another user sees nothing, and cannot add types.
    assert_error(api.as_user(bob).get(f"/api/v1/corpus/{corpus['id']}/"), 404, "client_error", "not_found")
    refused = api.as_user(bob).post(
        "/api/v1/elements/type/", {"corpus": corpus["id"], "slug": "line", "display_name": "Line"}
    )
    assert_error(refused, 400, "validation_error", "does_not_exist", ["corpus"])
    assert_error(api.get(f"/api/v1/corpus/{uuid.uuid4()}/"), 404, "client_error", "not_found")


def test_element_type_errors(api: Api) -> None:
    corpus = make_corpus(api)
    first = make_type(api, corpus["id"], "page")
    duplicate = api.post(
        "/api/v1/elements/type/", {"corpus": corpus["id"], "slug": "page", "display_name": "P"}
    )
    body = assert_error(duplicate, 400, "validation_error", "unique", ["slug"])
    assert body["existing_id"] == first["id"]
    bad = api.post("/api/v1/elements/type/", {"corpus": corpus["id"], "slug": "a b", "display_name": "x"})
    assert_error(bad, 400, "validation_error", "invalid", ["slug"])
    missing = api.post("/api/v1/elements/type/", {"slug": "line", "display_name": "Line"})
    assert_error(missing, 400, "validation_error", "required", ["corpus"])


def test_ml_classes_create_list_and_duplicates(api: Api, bob: ApiUser) -> None:
    corpus = make_corpus(api)
    path = f"/api/v1/corpus/{corpus['id']}/classes/"
    for name in ("signature", "handwritten", "printed"):
        assert api.post(path, {"name": name}).status_code == 201
    listed = api.get(path).json
    assert listed["count"] == 3
    assert [c["name"] for c in listed["results"]] == ["handwritten", "printed", "signature"]
    assert api.get(path, params={"search": "print"}).json["count"] == 1
    duplicate = api.post(path, {"name": "printed"})
    body = assert_error(duplicate, 400, "validation_error", "unique", ["name"])
    assert body["existing_id"] == listed["results"][1]["id"]
    assert_error(api.as_user(bob).get(path), 404, "client_error", "not_found")
    assert_error(api.as_user(bob).post(path, {"name": "x"}), 404, "client_error", "not_found")


# --- elements ----------------------------------------------------------------------------------


def test_elements_create_retrieve_and_children(api: Api, bob: ApiUser) -> None:
    corpus, page, run = setup_page(api)
    assert page["type"] == "page" and page["corpus"]["id"] == corpus["id"]
    assert page["worker_run"] is None and page["creator"] == "alice"
    line = make_element(
        api,
        corpus["id"],
        "page",
        "Line 1",
        parent=page["id"],
        worker_run_id=run["id"],
        confidence=0.5,
    )
    assert line["worker_run"] == {"id": run["id"], "summary": run["summary"]}
    assert line["worker_version"] == run["worker_version"]["id"]
    retrieved = api.get(f"/api/v1/element/{line['id']}/").json
    assert retrieved == line
    folder_id = page["parent"]
    children = api.get(f"/api/v1/elements/{folder_id}/children/").json
    assert [c["id"] for c in children["results"]] == [page["id"]]
    everything = api.get(f"/api/v1/elements/{folder_id}/children/", params={"recursive": "true"}).json
    assert [c["id"] for c in everything["results"]] == [page["id"], line["id"]]
    by_run = api.get(
        f"/api/v1/elements/{folder_id}/children/", params={"recursive": "true", "worker_run": run["id"]}
    ).json
    assert [c["id"] for c in by_run["results"]] == [line["id"]]
    manual = api.get(
        f"/api/v1/elements/{folder_id}/children/", params={"recursive": "true", "worker_run": "false"}
    ).json
    assert [c["id"] for c in manual["results"]] == [page["id"]]
    assert_error(
        api.get(f"/api/v1/elements/{folder_id}/children/", params={"worker_run": "nope"}),
        400,
        "validation_error",
        "invalid",
        ["worker_run"],
    )
    assert_error(api.as_user(bob).get(f"/api/v1/element/{page['id']}/"), 404, "client_error", "not_found")


def test_element_errors(api: Api) -> None:
    corpus, page, run = setup_page(api)
    unknown_type = api.post("/api/v1/elements/create/", {"corpus": corpus["id"], "type": "nope", "name": "x"})
    assert_error(unknown_type, 400, "validation_error", "invalid", ["type"])
    other = make_corpus(api, "Other")
    make_type(api, other["id"], "page")
    cross = api.post(
        "/api/v1/elements/create/", {"corpus": other["id"], "type": "page", "name": "x", "parent": page["id"]}
    )
    assert_error(cross, 400, "validation_error", "invalid", ["parent"])
    no_parent = api.post(
        "/api/v1/elements/create/",
        {"corpus": corpus["id"], "type": "page", "name": "x", "parent": str(uuid.uuid4())},
    )
    assert_error(no_parent, 400, "validation_error", "does_not_exist", ["parent"])
    bad_confidence = api.post(
        "/api/v1/elements/create/", {"corpus": corpus["id"], "type": "page", "name": "x", "confidence": 2}
    )
    assert_error(bad_confidence, 400, "validation_error", "max_value", ["confidence"])
    assert_error(api.get(f"/api/v1/element/{uuid.uuid4()}/"), 404, "client_error", "not_found")


# --- transcriptions, classifications, metadata: signed by the run ------------------------------


def test_publishing_signs_objects_with_the_run(api: Api, container: Container) -> None:
    corpus, page, run = setup_page(api)
    created = api.post(
        f"/api/v1/element/{page['id']}/transcription/",
        {"text": "Dear Sir,", "confidence": 0.9, "orientation": "horizontal-lr", "worker_run_id": run["id"]},
    )
    assert created.status_code == 201, created.json
    transcription = created.json
    assert transcription["worker_run"] == {"id": run["id"], "summary": run["summary"]}
    assert transcription["element"] == {"id": page["id"], "name": "Page 1", "type": "page"}
    ml_class = api.post(f"/api/v1/corpus/{corpus['id']}/classes/", {"name": "letter"}).json
    classification = api.post(
        "/api/v1/classifications/",
        {
            "element": page["id"],
            "ml_class": ml_class["id"],
            "confidence": 0.8,
            "high_confidence": True,
            "worker_run_id": run["id"],
        },
    )
    assert classification.status_code == 201, classification.json
    assert classification.json["worker_run_id"] == run["id"]
    metadata = api.post(
        f"/api/v1/element/{page['id']}/metadata/",
        {"type": "date", "name": "date", "value": "1789-07-14", "worker_run_id": run["id"]},
    )
    assert metadata.status_code == 201, metadata.json
    assert metadata.json["worker_run_id"] == run["id"]

    listed = api.get(f"/api/v1/element/{page['id']}/transcriptions/").json
    assert listed["count"] == 1 and listed["results"][0] == transcription
    assert (
        api.get(f"/api/v1/element/{page['id']}/transcriptions/", params={"worker_run": "false"}).json["count"]
        == 0
    )
    element = api.get(f"/api/v1/element/{page['id']}/").json
    assert element["classifications"] == [
        {
            "id": classification.json["id"],
            "ml_class": {"id": ml_class["id"], "name": "letter"},
            "state": "pending",
            "confidence": 0.8,
            "high_confidence": True,
            "worker_version": run["worker_version"]["id"],
            "worker_run": {"id": run["id"], "summary": run["summary"]},
        }
    ]
    # The signing run is in the payload and in the indexed column of every event it signed.
    assert _events_by_run(container, run["id"]) == [
        "TranscriptionCreated",
        "ClassificationCreated",
        "MetaDataCreated",
    ]
    # One classification per element, class and run: base-worker recognises the message.
    again = api.post(
        "/api/v1/classifications/",
        {"element": page["id"], "ml_class": ml_class["id"], "confidence": 0.1, "worker_run_id": run["id"]},
    )
    body = assert_error(again, 400, "validation_error", "unique", ["ml_class"])
    assert body["non_field_errors"] == ["The fields element, worker_run, ml_class must make a unique set."]
    # Without a run, the same class is a different (user) classification.
    assert (
        api.post(
            "/api/v1/classifications/", {"element": page["id"], "ml_class": ml_class["id"], "confidence": 0.1}
        ).status_code
        == 201
    )


def test_publishing_errors(api: Api) -> None:
    corpus, page, run = setup_page(api)
    path = f"/api/v1/element/{page['id']}/transcription/"
    assert_error(
        api.post(path, {"text": "", "confidence": 0.5}), 400, "validation_error", "min_length", ["text"]
    )
    assert_error(
        api.post(path, {"text": "x", "orientation": "diagonal"}),
        400,
        "validation_error",
        "invalid_choice",
        ["orientation"],
    )
    assert_error(
        api.post(f"/api/v1/element/{uuid.uuid4()}/transcription/", {"text": "x"}),
        404,
        "client_error",
        "not_found",
    )
    assert_error(
        api.post(
            "/api/v1/classifications/",
            {"element": page["id"], "ml_class": str(uuid.uuid4()), "confidence": 0.5},
        ),
        400,
        "validation_error",
        "invalid",
        ["ml_class"],
    )
    assert_error(
        api.post(
            "/api/v1/classifications/",
            {"element": str(uuid.uuid4()), "ml_class": str(uuid.uuid4()), "confidence": 0.5},
        ),
        400,
        "validation_error",
        "does_not_exist",
        ["element"],
    )
    assert_error(
        api.post(f"/api/v1/element/{page['id']}/metadata/", {"type": "color", "name": "x", "value": "y"}),
        400,
        "validation_error",
        "invalid_choice",
        ["type"],
    )
    assert_error(
        api.post(f"/api/v1/element/{page['id']}/metadata/", {"type": "text", "name": "x", "value": True}),
        400,
        "validation_error",
        "invalid",
        ["value"],
    )


def test_signing_rules_refuse_and_write_nothing(
    api: Api,
    bob: ApiUser,
    container: Container,
    projector: BackgroundProjector,
) -> None:
    corpus, page, run = setup_page(api)
    head = container.store.head()
    # Someone else's run: answered like an unknown run (no existence oracle), even on bob's own corpus.
    bob_api = api.as_user(bob)
    bob_corpus = make_corpus(bob_api, "Bob's")
    make_type(bob_api, bob_corpus["id"], "page")
    bob_page = make_element(bob_api, bob_corpus["id"], "page", "p")
    head = container.store.head()
    stolen = bob_api.post(
        f"/api/v1/element/{bob_page['id']}/transcription/", {"text": "x", "worker_run_id": run["id"]}
    )
    assert_error(stolen, 400, "validation_error", "does_not_exist", ["worker_run_id"])
    for path, body in [
        (
            "/api/v1/elements/create/",
            {"corpus": bob_corpus["id"], "type": "page", "name": "x", "worker_run_id": run["id"]},
        ),
        (
            "/api/v1/transcription/bulk/",
            {
                "worker_run_id": run["id"],
                "transcriptions": [{"element_id": bob_page["id"], "text": "x", "confidence": 0.5}],
            },
        ),
        (
            f"/api/v1/element/{bob_page['id']}/metadata/",
            {"type": "text", "name": "n", "value": "v", "worker_run_id": run["id"]},
        ),
    ]:
        assert_error(bob_api.post(path, body), 400, "validation_error", "does_not_exist", ["worker_run_id"])
    # An unknown run: 400 on worker_run_id.
    unknown = api.post(
        f"/api/v1/element/{page['id']}/transcription/", {"text": "x", "worker_run_id": str(uuid.uuid4())}
    )
    assert_error(unknown, 400, "validation_error", "does_not_exist", ["worker_run_id"])
    # An archived worker version cannot sign any more.
    archived = api.patch(f"/api/v1/workers/versions/{run['worker_version']['id']}/", {"archived": True})
    assert archived.status_code == 200, archived.json
    refused = api.post(
        f"/api/v1/element/{page['id']}/transcription/", {"text": "x", "worker_run_id": run["id"]}
    )
    assert_error(refused, 400, "validation_error", "invalid", ["worker_run_id"])
    # Nothing was written by any refused command.
    assert container.store.head() == head + 1  # only the PATCH
    assert _events_by_run(container, run["id"]) == []


def test_bulk_transcriptions_and_classifications(api: Api, container: Container) -> None:
    corpus, page, run = setup_page(api)
    lines = [make_element(api, corpus["id"], "page", f"Line {i}", parent=page["id"]) for i in range(3)]
    created = api.post(
        "/api/v1/transcription/bulk/",
        {
            "worker_run_id": run["id"],
            "transcriptions": [
                {"element_id": line["id"], "text": f"text {i}", "confidence": 0.5}
                for i, line in enumerate(lines)
            ],
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["worker_run_id"] == run["id"]
    assert [t["element_id"] for t in created.json["transcriptions"]] == [line["id"] for line in lines]
    assert all(t["orientation"] == "horizontal-lr" for t in created.json["transcriptions"])
    recursive = api.get(f"/api/v1/element/{page['id']}/transcriptions/", params={"recursive": "true"}).json
    assert [t["text"] for t in recursive["results"]] == ["text 0", "text 1", "text 2"]
    # One transaction: a batch with one bad element writes nothing at all.
    head = container.store.head()
    partial = api.post(
        "/api/v1/transcription/bulk/",
        {
            "worker_run_id": run["id"],
            "transcriptions": [
                {"element_id": lines[0]["id"], "text": "ok", "confidence": 0.5},
                {"element_id": str(uuid.uuid4()), "text": "ghost", "confidence": 0.5},
            ],
        },
    )
    assert_error(partial, 400, "validation_error", "does_not_exist", ["element_id"])
    assert container.store.head() == head
    assert_error(
        api.post("/api/v1/transcription/bulk/", {"worker_run_id": run["id"], "transcriptions": []}),
        400,
        "validation_error",
        "min_length",
        ["transcriptions"],
    )
    assert_error(
        api.post(
            "/api/v1/transcription/bulk/", {"transcriptions": [{"element_id": lines[0]["id"], "text": "x"}]}
        ),
        400,
        "validation_error",
        "required",
        ["worker_run_id"],
    )

    classes = [api.post(f"/api/v1/corpus/{corpus['id']}/classes/", {"name": n}).json for n in ("a", "b")]
    bulk = api.post(
        "/api/v1/classification/bulk/",
        {
            "parent": page["id"],
            "worker_run_id": run["id"],
            "classifications": [{"ml_class": c["id"], "confidence": 0.5} for c in classes],
        },
    )
    assert bulk.status_code == 201, bulk.json
    assert bulk.json["parent"] == page["id"] and len(bulk.json["classifications"]) == 2
    assert {c["state"] for c in bulk.json["classifications"]} == {"pending"}
    assert_error(
        api.post(
            "/api/v1/classification/bulk/",
            {
                "parent": str(uuid.uuid4()),
                "worker_run_id": run["id"],
                "classifications": [{"ml_class": classes[0]["id"], "confidence": 0.5}],
            },
        ),
        400,
        "validation_error",
        "does_not_exist",
        ["parent"],
    )


def test_start_worker_activity_stops_user_runs(api: Api) -> None:
    assert_error(
        api.client.simulate_post("/api/v1/process/start-activity/", headers=api.user.headers),
        404,
        "client_error",
        "not_found",
    )
    assert_error(
        api.client.simulate_post("/api/v1/process/start-activity/"), 401, "client_error", "not_authenticated"
    )


# --- provenance --------------------------------------------------------------------------------


def test_provenance_by_run_by_user_and_by_object(api: Api, bob: ApiUser) -> None:
    corpus, page, run = setup_page(api)
    transcription = api.post(
        f"/api/v1/element/{page['id']}/transcription/",
        {"text": "signed", "confidence": 0.9, "worker_run_id": run["id"]},
    ).json
    manual = api.post(f"/api/v1/element/{page['id']}/transcription/", {"text": "by hand"}).json
    line = make_element(api, corpus["id"], "page", "Line", parent=page["id"], worker_run_id=run["id"])

    # Cursor style (arkindex-api.md §3): `count` only on request, `next` always present.
    results = api.get(f"/api/v1/process/workers/{run['id']}/results/", params={"with_count": "true"}).json
    assert results["count"] == 2 and results["next"] is None and results["previous"] is None
    assert "number" not in results
    assert [(r["type"], r["id"]) for r in results["results"]] == [
        ("transcription", transcription["id"]),
        ("element", line["id"]),
    ]
    assert results["results"][0]["worker_run"] == {"id": run["id"], "summary": run["summary"]}
    assert results["results"][0]["element_id"] == page["id"] and results["results"][0]["label"] == "signed"
    only = api.get(f"/api/v1/process/workers/{run['id']}/results/", params={"type": "element"}).json
    assert [r["id"] for r in only["results"]] == [line["id"]] and only["count"] is None
    # Runs are personal: so is the list of what they produced.
    assert_error(
        api.as_user(bob).get(f"/api/v1/process/workers/{run['id']}/results/"),
        404,
        "client_error",
        "not_found",
    )

    mine = api.get("/api/v1/user/results/").json
    assert {r["id"] for r in mine["results"]} >= {manual["id"], page["id"]}
    assert all(r["worker_run"] is None for r in mine["results"])
    assert transcription["id"] not in {r["id"] for r in mine["results"]}

    provenance = api.get(f"/api/v1/provenance/{transcription['id']}/").json
    assert provenance["type"] == "transcription"
    assert provenance["worker_run"]["id"] == run["id"]
    assert provenance["worker_run"]["worker_version"]["worker"]["name"] == "HTR"
    assert api.get(f"/api/v1/provenance/{manual['id']}/").json["worker_run"] is None
    assert_error(
        api.as_user(bob).get(f"/api/v1/provenance/{transcription['id']}/"), 404, "client_error", "not_found"
    )
    assert_error(api.get(f"/api/v1/provenance/{uuid.uuid4()}/"), 404, "client_error", "not_found")


# --- the schema the official client reads --------------------------------------------------------

# (operationId, method, path) exactly as arkindex-base-worker 0.6 calls them.
BASE_WORKER_OPERATIONS = [
    ("CreateCorpus", "post", "/api/v1/corpus/"),
    ("RetrieveCorpus", "get", "/api/v1/corpus/{id}/"),
    ("CreateElementType", "post", "/api/v1/elements/type/"),
    ("CreateElement", "post", "/api/v1/elements/create/"),
    ("RetrieveElement", "get", "/api/v1/element/{id}/"),
    ("ListElementChildren", "get", "/api/v1/elements/{id}/children/"),
    ("CreateTranscription", "post", "/api/v1/element/{id}/transcription/"),
    ("ListTranscriptions", "get", "/api/v1/element/{id}/transcriptions/"),
    ("CreateMLClass", "post", "/api/v1/corpus/{id}/classes/"),
    ("ListCorpusMLClasses", "get", "/api/v1/corpus/{id}/classes/"),
    ("CreateClassification", "post", "/api/v1/classifications/"),
    ("CreateMetaData", "post", "/api/v1/element/{id}/metadata/"),
    ("ListElementMetaData", "get", "/api/v1/element/{id}/metadata/"),
    ("CreateMetaDataBulk", "post", "/api/v1/element/{id}/metadata/bulk/"),
    ("CreateTranscriptions", "post", "/api/v1/transcription/bulk/"),
    ("CreateClassifications", "post", "/api/v1/classification/bulk/"),
    ("StartWorkerActivity", "post", "/api/v1/process/start-activity/"),
    ("ListWorkerRunResults", "get", "/api/v1/process/workers/{id}/results/"),
    ("ListUserResults", "get", "/api/v1/user/results/"),
    ("RetrieveObjectProvenance", "get", "/api/v1/provenance/{id}/"),
]


def test_document_operations_are_in_the_schema(api: Api) -> None:
    spec = api.as_user(None).get("/api/v1/openapi/", params={"format": "json"}).json
    found = {
        operation["operationId"]: (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation_id, method, path in BASE_WORKER_OPERATIONS:
        assert found.get(operation_id) == (method, path), operation_id
    children = spec["paths"]["/api/v1/elements/{id}/children/"]["get"]
    # base-worker passes these keywords; the client refuses any it does not find declared.
    declared = {p["name"] for p in children["parameters"]}
    assert {"type", "recursive", "worker_run", "with_classes", "with_zone", "page", "page_size"} <= declared
    assert children["x-paginated"] is True


def test_metadata_bulk_and_list(api: Api, bob: ApiUser) -> None:
    corpus, page, run = setup_page(api)
    folder_id = page["parent"]
    api.post(f"/api/v1/element/{folder_id}/metadata/", {"type": "text", "name": "archive", "value": "AD 75"})
    bulk = api.post(
        f"/api/v1/element/{page['id']}/metadata/bulk/",
        {
            "worker_run_id": run["id"],
            "metadata_list": [
                {"type": "numeric", "name": "folio", "value": 12},
                {"type": "text", "name": "language", "value": "fr"},
            ],
        },
    )
    assert bulk.status_code == 201, bulk.json
    assert [(md["name"], md["value"]) for md in bulk.json["metadata_list"]] == [
        ("folio", 12),
        ("language", "fr"),
    ]
    assert bulk.json["worker_run_id"] == run["id"]
    listed = api.get(f"/api/v1/element/{page['id']}/metadata/").json
    assert [(md["name"], md["worker_run"]) for md in listed["results"]] == [
        ("folio", {"id": run["id"], "summary": run["summary"]}),
        ("language", {"id": run["id"], "summary": run["summary"]}),
    ]
    with_parents = api.get(f"/api/v1/element/{page['id']}/metadata/", params={"load_parents": "true"}).json
    assert [md["name"] for md in with_parents["results"]] == ["archive", "folio", "language"]
    by_hand = api.get(
        f"/api/v1/element/{page['id']}/metadata/", params={"load_parents": "true", "worker_run": "false"}
    ).json
    assert [md["element_id"] for md in by_hand["results"]] == [folder_id]
    assert_error(
        api.post(
            f"/api/v1/element/{page['id']}/metadata/bulk/",
            {"metadata_list": [{"type": "text", "name": "x", "value": None}]},
        ),
        400,
        "validation_error",
        "null",
        ["metadata_list", 0, "value"],
    )
    assert_error(
        api.as_user(bob).post(
            f"/api/v1/element/{page['id']}/metadata/bulk/",
            {"worker_run_id": run["id"], "metadata_list": [{"type": "text", "name": "x", "value": "y"}]},
        ),
        400,
        "validation_error",
        "does_not_exist",
    )
    assert_error(
        api.as_user(bob).get(f"/api/v1/element/{page['id']}/metadata/"), 404, "client_error", "not_found"
    )


def test_bulk_import_is_idempotent_with_a_key(api: Api, container: Container) -> None:
    corpus, page, run = setup_page(api)
    body = {
        "worker_run_id": run["id"],
        "transcriptions": [{"element_id": page["id"], "text": f"t{i}", "confidence": 0.5} for i in range(5)],
    }
    first = api.post("/api/v1/transcription/bulk/", body, headers={"Idempotency-Key": "import-42"})
    head = container.store.head()
    again = api.post("/api/v1/transcription/bulk/", body, headers={"Idempotency-Key": "import-42"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json and container.store.head() == head
    changed = api.post(
        "/api/v1/transcription/bulk/",
        {**body, "transcriptions": body["transcriptions"][:1]},
        headers={"Idempotency-Key": "import-42"},
    )
    assert changed.status_code == 422
