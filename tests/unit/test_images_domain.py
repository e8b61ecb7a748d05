"""Pure rules of images and zones (issue 10): URLs, servers by prefix, polygons, info.json."""

from __future__ import annotations

import pytest

from domain.errors import InvalidValue
from domain.image import (
    MAX_POLYGON_POINTS,
    Image,
    ImageNotReachable,
    ImageServer,
    normalize_image_url,
    normalize_polygon,
    server_url_candidates,
    zone_url,
)
from integrations.iiif import parse_info


def test_image_urls_are_normalised_and_servers_found_by_prefix() -> None:
    assert normalize_image_url(" https://h.org/iiif/2/p1.jpg/info.json ") == "https://h.org/iiif/2/p1.jpg"
    assert normalize_image_url("https://h.org/iiif/2/p1/") == "https://h.org/iiif/2/p1"
    assert server_url_candidates("https://h.org:8443/iiif/2/a/b") == [
        "https://h.org:8443/iiif/2/a", "https://h.org:8443/iiif/2", "https://h.org:8443/iiif", "https://h.org:8443",
    ]
    for bad in ("ftp://h.org/x", "https://h.org", "https://h.org/", "https://h.org/x?size=1", "not a url",
                "https://user:secret@h.org/iiif/2/p"):
        with pytest.raises(InvalidValue) as refused:
            normalize_image_url(bad)
        assert refused.value.field == "url"


def test_polygons_are_closed_integer_and_inside_the_image() -> None:
    assert normalize_polygon([[0, 0], [10, 0], [10.0, 20]], 100, 100) == [[0, 0], [10, 0], [10, 20], [0, 0]]
    closed = [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]
    assert normalize_polygon(closed, 100, 100) == closed  # the edges belong to the image
    bad = {
        "two points": [[0, 0], [10, 10]],
        "three points, two distinct": [[0, 0], [10, 10], [0, 0]],
        "outside": [[0, 0], [101, 0], [101, 50]],
        "negative": [[-1, 0], [10, 0], [10, 10]],
        "not integers": [[0, 0], [10.5, 0], [10, 10]],
        "a line": [[0, 0], [5, 0], [10, 0]],
        "not pairs": [[0, 0, 0], [10, 0], [10, 10]],
        "booleans": [[True, 0], [10, 0], [10, 10]],
        "too many": [[i % 100, (i // 100) % 100] for i in range(MAX_POLYGON_POINTS + 1)],
    }
    for case, polygon in bad.items():
        with pytest.raises(InvalidValue) as refused:
            normalize_polygon(polygon, 100, 100)
        assert refused.value.field == "polygon", case


def test_zone_url_crops_the_bounding_box() -> None:
    polygon = [[10, 20], [110, 20], [110, 70], [10, 70], [10, 20]]
    assert zone_url("https://h/iiif/2/p", polygon) == "https://h/iiif/2/p/10,20,100,50/full/0/default.jpg"
    assert zone_url("https://h/iiif/3/p", polygon, 3) == "https://h/iiif/3/p/10,20,100,50/max/0/default.jpg"


def test_an_image_lies_on_its_server_with_a_positive_size_and_a_known_status() -> None:
    server = ImageServer("image-server-s1")
    server.create(server_id="s1", url="https://h/iiif/2", display_name="h", version=2, max_width=None,
                  max_height=None)
    image = Image("image-i1")
    with pytest.raises(InvalidValue):
        image.create(server, image_id="i1", url="https://other/iiif/2/p", width=10, height=10,
                     status="checked", user_id="u")
    with pytest.raises(InvalidValue):
        image.create(server, image_id="i1", url="https://h/iiif/2/p", width=0, height=10,
                     status="checked", user_id="u")
    image.create(server, image_id="i1", url="https://h/iiif/2/p", width=10, height=20, status="checked",
                 user_id="u")
    with pytest.raises(InvalidValue):
        image.update_status("lost")
    image.update_status("checked")  # unchanged: nothing recorded
    image.update_status("error")
    assert [type(e).__name__ for e in image.collect()] == ["ImageCreated", "ImageStatusUpdated"]
    with pytest.raises(InvalidValue):
        ImageServer("image-server-s2").create(server_id="s2", url="https://h", display_name="h", version=1,
                                              max_width=None, max_height=None)


def test_info_json_of_both_api_versions() -> None:
    v2 = {
        "@context": "http://iiif.io/api/image/2/context.json", "width": 1200, "height": 1600,
        "profile": ["http://iiif.io/api/image/2/level2.json", {"maxWidth": 2000}],
    }
    info = parse_info(v2, "u")
    assert (info.width, info.height, info.version) == (1200, 1600, 2)
    assert (info.max_width, info.max_height) == (2000, 2000)
    v3 = {
        "@context": ["http://example.org/extension.json", "http://iiif.io/api/image/3/context.json"],
        "type": "ImageService3", "width": 30, "height": 40, "maxWidth": 10, "maxHeight": 20,
    }
    info = parse_info(v3, "u")
    assert (info.version, info.max_width, info.max_height) == (3, 10, 20)
    for doc in ([], {"width": 1, "height": 1}, {**v2, "width": "1200"}, {**v2, "height": 0},
                {"@context": "http://iiif.io/api/image/1/context.json", "width": 1, "height": 1}):
        with pytest.raises(ImageNotReachable) as refused:
            parse_info(doc, "https://h/iiif/2/p/info.json")
        assert "https://h/iiif/2/p/info.json" in refused.value.message
