"""API: what image workers publish in bulk (issue 10) — CreateElements and
CreateElementTranscriptions (children on their parent's image, an existing child reused) and
PartialUpdateElement, each signed by the worker run, all or nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from eventstore.schema import events
from tests.api_factories import create_image, make_corpus, make_run, make_type
from tests.api_support import Api, ApiUser, assert_error
from tests.iiif_server import PAGE_SIZE, IIIFServer, loopback_container
from worker_runs.bootstrap import Container

WIDTH, HEIGHT = PAGE_SIZE
LINES = [[[100, 150 + 110 * n], [1100, 150 + 110 * n], [1100, 190 + 110 * n], [100, 190 + 110 * n]]
         for n in range(3)]


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Container:
    return loopback_container(engine, tmp_path)


@pytest.fixture
def scene(api: Api, iiif: IIIFServer) -> dict[str, Any]:
    corpus = make_corpus(api)
    for slug, folder in (("folder", True), ("page", False), ("text_line", False)):
        make_type(api, corpus["id"], slug, folder=folder)
    image = create_image(api, iiif.image_url("page-1"))
    folder = api.post("/api/v1/elements/create/",
                      {"corpus": corpus["id"], "type": "folder", "name": "Box"}).json
    page = api.post("/api/v1/elements/create/", {"corpus": corpus["id"], "type": "page", "name": "p1",
                                                 "image": image["id"], "parent": folder["id"]}).json
    return {"corpus": corpus, "folder": folder, "page": page, "image": image, "run": make_run(api)}


def signed_event_types(container: Container, run_id: str) -> list[str]:
    with container.engine.connect() as conn:
        return list(conn.execute(
            sa.select(events.c.event_type).where(events.c.worker_run_id == run_id)
            .order_by(events.c.global_position)
        ).scalars())


def children(api: Api, parent_id: str) -> list[dict[str, Any]]:
    return api.get(f"/api/v1/elements/{parent_id}/children/", params={"page_size": 100}).json["results"]


def test_create_elements_on_the_parent_image(api: Api, scene: dict[str, Any], container: Container) -> None:
    page, run = scene["page"], scene["run"]
    result = api.post(f"/api/v1/element/{page['id']}/children/bulk/", {
        "worker_run_id": run["id"],
        "elements": [{"name": f"l{n}", "type": "text_line", "polygon": p, "confidence": 0.9}
                     for n, p in enumerate(LINES)],
    })
    assert result.status_code == 201, result.json
    ids = [item["id"] for item in result.json]
    assert len(ids) == 3 and all(set(item) == {"id"} for item in result.json)
    listed = children(api, page["id"])
    assert [c["id"] for c in listed] == ids
    for child, polygon in zip(listed, LINES, strict=True):
        assert child["zone"]["polygon"] == [*polygon, polygon[0]]
        assert child["zone"]["image"]["id"] == scene["image"]["id"]
        assert child["worker_run"] == {"id": run["id"], "summary": run["summary"]}
        assert child["confidence"] == 0.9
    assert signed_event_types(container, run["id"]) == ["ElementCreated"] * 3


def test_a_bad_item_refuses_the_whole_batch(api: Api, scene: dict[str, Any], container: Container) -> None:
    page, run = scene["page"], scene["run"]
    before = container.store.head()
    body = assert_error(api.post(f"/api/v1/element/{page['id']}/children/bulk/", {
        "worker_run_id": run["id"],
        "elements": [{"name": "ok", "type": "text_line", "polygon": LINES[0]},
                     {"name": "out", "type": "text_line", "polygon": [[0, 0], [WIDTH + 5, 0], [10, 10]]}],
    }), 400, "validation_error", "invalid", ["elements"])
    assert body["errors"][0]["detail"].startswith("elements[1]: The point")
    assert_error(api.post(f"/api/v1/element/{page['id']}/children/bulk/", {
        "worker_run_id": run["id"], "elements": [{"name": "x", "type": "nope", "polygon": LINES[0]}],
    }), 400, "validation_error", "invalid", ["elements"])
    # A parent without a zone: its children would lie on no image.
    assert_error(api.post(f"/api/v1/element/{scene['folder']['id']}/children/bulk/", {
        "worker_run_id": run["id"], "elements": [{"name": "x", "type": "text_line", "polygon": LINES[0]}],
    }), 400, "validation_error", "invalid", ["parent"])
    assert container.store.head() == before
    assert children(api, page["id"]) == []


def test_element_transcriptions_create_then_reuse_children(
    api: Api, scene: dict[str, Any], container: Container,
) -> None:
    page, run = scene["page"], scene["run"]
    # One line exists already (same type and polygon): it is reused, not duplicated.
    existing = api.post(f"/api/v1/element/{page['id']}/children/bulk/", {
        "worker_run_id": run["id"], "elements": [{"name": "old", "type": "text_line", "polygon": LINES[1]}],
    }).json[0]["id"]

    def publish(texts: list[str]) -> list[dict[str, Any]]:
        result = api.post(f"/api/v1/element/{page['id']}/transcriptions/bulk/", {
            "element_type": "text_line",
            "worker_run_id": run["id"],
            "return_elements": True,
            "transcriptions": [
                {"polygon": p, "text": t, "confidence": 0.8, "orientation": "horizontal-lr",
                 "element_confidence": 0.7}
                for p, t in zip(LINES, texts, strict=True)
            ],
        })
        assert result.status_code == 201, result.json
        return list(result.json)

    first = publish(["a", "b", "c"])
    assert [a["created"] for a in first] == [True, False, True]
    assert first[1]["element_id"] == existing
    second = publish(["A", "B", "C"])
    assert [a["created"] for a in second] == [False, False, False]
    assert [a["element_id"] for a in second] == [a["element_id"] for a in first]
    listed = children(api, page["id"])
    assert sorted(c["id"] for c in listed) == sorted(a["element_id"] for a in first)
    new_line = next(c for c in listed if c["id"] == first[0]["element_id"])
    assert (new_line["name"], new_line["type"], new_line["confidence"]) == ("1", "text_line", 0.7)
    texts = api.get(f"/api/v1/element/{first[0]['element_id']}/transcriptions/").json["results"]
    assert sorted(t["text"] for t in texts) == ["A", "a"]
    assert all(t["worker_run"]["id"] == run["id"] for t in texts)
    assert signed_event_types(container, run["id"]).count("TranscriptionCreated") == 6
    assert signed_event_types(container, run["id"]).count("ElementCreated") == 3


def test_element_transcriptions_refusals(
    api: Api, scene: dict[str, Any], container: Container, bob: ApiUser,
) -> None:
    page, run = scene["page"], scene["run"]
    url = f"/api/v1/element/{page['id']}/transcriptions/bulk/"
    bob_run = make_run(api.as_user(bob), "Bob's HTR")
    before = container.store.head()

    def body(**changes: Any) -> dict[str, Any]:
        return {"element_type": "text_line", "worker_run_id": run["id"],
                "transcriptions": [{"polygon": LINES[0], "text": "x", "confidence": 0.5}], **changes}

    assert_error(api.post(url, body(element_type="nope")),
                 400, "validation_error", "invalid", ["element_type"])
    assert_error(api.post(url, body(transcriptions=[{"polygon": [[0, 0], [1, 1]], "text": "x"}])),
                 400, "validation_error", "min_length")
    assert_error(api.post(url, body(transcriptions=[{"polygon": [[0, 0], [9.5, 0], [9, 9]], "text": "x"}])),
                 400, "validation_error", "invalid", ["transcriptions"])
    # Bob may not publish on Alice's page, with his own run or hers.
    assert_error(api.as_user(bob).post(url, body(worker_run_id=bob_run["id"])),
                 404, "client_error", "not_found")
    # Her run: answered like a run that does not exist (no existence oracle, issue 12).
    assert_error(api.as_user(bob).post(url, body()), 400, "validation_error", "does_not_exist",
                 ["worker_run_id"])
    assert container.store.head() == before
    assert children(api, page["id"]) == []


def test_partial_update_element(api: Api, scene: dict[str, Any], iiif: IIIFServer) -> None:
    page = scene["page"]
    updated = api.patch(f"/api/v1/element/{page['id']}/", {"rotation_angle": 90, "mirrored": True,
                                                           "name": "Folio 1r"})
    assert updated.status_code == 200, updated.json
    assert (updated.json["rotation_angle"], updated.json["mirrored"]) == (90, True)
    assert updated.json["name"] == "Folio 1r"
    narrowed = api.patch(f"/api/v1/element/{page['id']}/", {"polygon": [[0, 0], [600, 0], [600, 800]]})
    assert narrowed.json["zone"]["polygon"] == [[0, 0], [600, 0], [600, 800], [0, 0]]
    assert narrowed.json["zone"]["url"].endswith("/0,0,600,800/full/0/default.jpg")
    assert api.get(f"/api/v1/element/{page['id']}/").json == narrowed.json
    other = create_image(api, iiif.image_url("page-2", 3))
    moved = api.patch(f"/api/v1/element/{page['id']}/", {"image": other["id"]}).json
    assert moved["zone"]["image"]["id"] == other["id"]
    assert moved["zone"]["polygon"] == [[0, 0], [0, HEIGHT], [WIDTH, HEIGHT], [WIDTH, 0], [0, 0]]
    assert moved["zone"]["url"].endswith(f"/0,0,{WIDTH},{HEIGHT}/max/0/default.jpg")
    assert_error(api.patch(f"/api/v1/element/{page['id']}/", {"polygon": [[0, 0], [WIDTH + 1, 0], [5, 5]]}),
                 400, "validation_error", "invalid", ["polygon"])
    assert_error(api.patch(f"/api/v1/element/{page['id']}/", {"rotation_angle": 360}),
                 400, "validation_error", "max_value", ["rotation_angle"])
    assert_error(api.patch(f"/api/v1/element/{page['id']}/", {"type": "nope"}),
                 400, "validation_error", "invalid", ["type"])
    folder_url = f"/api/v1/element/{scene['folder']['id']}/"
    assert_error(api.patch(folder_url, {"polygon": [[0, 0], [5, 0], [5, 5]]}),
                 400, "validation_error", "invalid", ["polygon"])


def test_a_moved_child_is_reused_at_its_new_place_only(api: Api, scene: dict[str, Any]) -> None:
    """PartialUpdateElement moves a line: CreateElementTranscriptions finds it by its new polygon,
    and no longer by the old one (a new line is created there)."""
    page, run = scene["page"], scene["run"]
    line = api.post(f"/api/v1/element/{page['id']}/children/bulk/", {
        "worker_run_id": run["id"], "elements": [{"name": "l", "type": "text_line", "polygon": LINES[0]}],
    }).json[0]["id"]
    moved = api.patch(f"/api/v1/element/{line}/", {"polygon": LINES[2]})
    assert moved.status_code == 200, moved.json

    def publish(polygon: list[list[int]]) -> dict[str, Any]:
        result = api.post(f"/api/v1/element/{page['id']}/transcriptions/bulk/", {
            "element_type": "text_line", "worker_run_id": run["id"],
            "transcriptions": [{"polygon": polygon, "text": "t", "confidence": 0.5}],
        })
        assert result.status_code == 201, result.json
        return dict(result.json[0])

    at_new_place = publish(LINES[2])
    assert (at_new_place["element_id"], at_new_place["created"]) == (line, False)
    at_old_place = publish(LINES[0])
    assert at_old_place["created"] is True and at_old_place["element_id"] != line
    assert len(children(api, page["id"])) == 2


def test_a_rebuilt_documents_projection_shows_the_same_images_and_zones(
    api: Api, scene: dict[str, Any], container: Container,
) -> None:
    """Images, zones, bulk children and element updates are rebuilt from the events alone."""
    page, run = scene["page"], scene["run"]
    api.post(f"/api/v1/element/{page['id']}/children/bulk/", {
        "worker_run_id": run["id"], "elements": [{"name": "l", "type": "text_line", "polygon": LINES[0]}],
    })
    api.post(f"/api/v1/element/{page['id']}/transcriptions/bulk/", {
        "element_type": "text_line", "worker_run_id": run["id"],
        "transcriptions": [{"polygon": p, "text": "t", "confidence": 0.5} for p in LINES],
    })
    api.patch(f"/api/v1/element/{page['id']}/", {"rotation_angle": 180, "mirrored": True})
    api.patch(f"/api/v1/image/{scene['image']['id']}/", {"status": "error"})

    def snapshot() -> Any:
        return (
            api.get(f"/api/v1/element/{page['id']}/").json,
            children(api, page["id"]),
            api.get(f"/api/v1/image/{scene['image']['id']}/").json,
        )

    before = snapshot()
    assert before[0]["rotation_angle"] == 180 and before[2]["status"] == "error"
    assert len(before[1]) == 3
    # As `worker-runs projections rebuild documents` does, beside the live generation.
    assert container.runner.rebuild("documents", batch_size=7).generation == 2
    assert snapshot() == before
