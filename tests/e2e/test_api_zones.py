"""API: zones on elements (issue 10) — CreateElement with an image and a polygon, checked
against the image; RetrieveElement and ListElementChildren show `zone` with the IIIF crop URL
base-worker downloads, and the URL really crops the page on the IIIF server (SQLite, PostgreSQL)."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat
from sqlalchemy.engine import Engine

from tests.api_factories import create_image, make_corpus, make_run, make_type
from tests.api_support import Api, assert_error
from tests.iiif_server import PAGE_SIZE, IIIFServer, loopback_container
from worker_runs.bootstrap import Container

WIDTH, HEIGHT = PAGE_SIZE


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Container:
    return loopback_container(engine, tmp_path)


def create(api: Api, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/elements/create/", body)


@pytest.fixture
def scene(api: Api, iiif: IIIFServer) -> dict[str, Any]:
    corpus = make_corpus(api)
    for slug, folder in (("folder", True), ("page", False), ("text_line", False)):
        make_type(api, corpus["id"], slug, folder=folder)
    folder = create(api, {"corpus": corpus["id"], "type": "folder", "name": "Box"}).json
    image = create_image(api, iiif.image_url("page-1"))
    return {"corpus": corpus, "folder": folder, "image": image, "run": make_run(api)}


def test_a_page_on_an_image_has_a_zone_that_crops_it(
    api: Api, scene: dict[str, Any], iiif: IIIFServer,
) -> None:
    corpus, image = scene["corpus"], scene["image"]
    page = create(api, {"corpus": corpus["id"], "type": "page", "name": "p1", "image": image["id"],
                        "parent": scene["folder"]["id"], "worker_run_id": scene["run"]["id"]})
    assert page.status_code == 201, page.json
    zone = page.json["zone"]
    full = [[0, 0], [0, HEIGHT], [WIDTH, HEIGHT], [WIDTH, 0], [0, 0]]
    assert zone["polygon"] == full  # an image without a polygon: the whole page
    assert zone["url"] == f"{image['url']}/0,0,{WIDTH},{HEIGHT}/full/0/default.jpg"
    assert zone["image"] == image
    assert (page.json["rotation_angle"], page.json["mirrored"]) == (0, False)
    # A line on it, polygon not closed and with integral floats: closed and integers for the caller.
    line = create(api, {"corpus": corpus["id"], "type": "text_line", "name": "l1", "parent": page.json["id"],
                        "polygon": [[100, 150], [1100, 150], [1100.0, 190], [100, 190]]})
    assert line.status_code == 201, line.json
    assert line.json["zone"]["polygon"] == [[100, 150], [1100, 150], [1100, 190], [100, 190], [100, 150]]
    assert line.json["polygon"] == line.json["zone"]["polygon"]  # integers there too
    assert line.json["zone"]["image"]["id"] == image["id"]  # on the parent's image
    crop_url = line.json["zone"]["url"]
    assert crop_url == f"{image['url']}/100,150,1000,40/full/0/default.jpg"
    assert api.get(f"/api/v1/element/{line.json['id']}/").json == line.json
    children = api.get(f"/api/v1/elements/{page.json['id']}/children/").json["results"]
    assert [c["zone"] for c in children] == [line.json["zone"]]
    # The crop URL is a real IIIF request: a 1000 x 40 piece of a dark text line.
    with urllib.request.urlopen(crop_url, timeout=10) as response:
        crop = Image.open(io.BytesIO(response.read()))
    assert crop.size == (1000, 40)
    assert ImageStat.Stat(crop.convert("L")).mean[0] < 80
    # Elements without an image keep `zone: null`.
    assert api.get(f"/api/v1/element/{scene['folder']['id']}/").json["zone"] is None


@pytest.mark.parametrize(
    ("polygon", "detail"),
    [
        ([[0, 0], [10, 10]], "Shorter than minimum length 3."),
        ([[0, 0], [10, 10], [0, 0]], "at least three distinct points"),
        ([[0, 0], [WIDTH + 1, 0], [WIDTH + 1, 10]], "outside the image"),
        ([[-5, 0], [10, 0], [10, 10]], "outside the image"),
        ([[0, 0], [10.5, 0], [10, 10]], "must be integers"),
        ([[0, 0], [5, 0], [10, 0]], "cover an area"),
        ([[i % 10, i % 7] for i in range(100_000)], "at most 10000 points"),
    ],
)
def test_bad_polygons_are_400_and_nothing_is_stored(
    api: Api, scene: dict[str, Any], container: Container, polygon: Any, detail: str,
) -> None:
    before = container.store.head()
    result = create(api, {"corpus": scene["corpus"]["id"], "type": "page", "name": "p",
                          "image": scene["image"]["id"], "polygon": polygon})
    assert result.status_code == 400, result.json
    body = result.json
    assert body["type"] == "validation_error"
    assert any(detail in e["detail"] and e["attr"][0] == "polygon" for e in body["errors"]), body
    assert container.store.head() == before


def test_a_polygon_needs_an_image_and_the_image_must_exist(api: Api, scene: dict[str, Any]) -> None:
    corpus = scene["corpus"]
    assert_error(create(api, {"corpus": corpus["id"], "type": "page", "name": "p",
                              "polygon": [[0, 0], [10, 0], [10, 10]]}),
                 400, "validation_error", "invalid", ["polygon"])
    assert_error(create(api, {"corpus": corpus["id"], "type": "page", "name": "p",
                              "image": "00000000-0000-4000-8000-000000000000"}),
                 400, "validation_error", "does_not_exist", ["image"])
