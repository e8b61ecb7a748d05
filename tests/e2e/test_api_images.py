"""API: IIIF images (issue 10) — CreateIIIFURL reads info.json from a real IIIF server on
loopback (allowed by WORKER_RUNS_IIIF_ALLOW_PRIVATE), RetrieveImage, PartialUpdateImage, and
every refusal leaves the event log untouched (TestClient; SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.api_factories import create_image
from tests.api_support import Api, assert_error
from tests.conftest import settings_for
from tests.iiif_server import PAGE_SIZE, IIIFServer, loopback_container
from worker_runs.bootstrap import Container, bootstrap


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Container:
    return loopback_container(engine, tmp_path)


def head(container: Container) -> int:
    return container.store.head()


def test_create_iiif_url_reads_info_json_and_finds_the_server(api: Api, iiif: IIIFServer) -> None:
    url = iiif.image_url("page-1", 2)
    image = create_image(api, url + "/info.json")  # a pasted info.json URL is the image's URL
    assert image == {
        "id": image["id"],
        "path": "page-1",
        "url": url,
        "width": PAGE_SIZE[0],
        "height": PAGE_SIZE[1],
        "status": "checked",
        "s3_url": None,
        "server": {
            "url": f"{iiif.url}/iiif/2",
            "display_name": f"127.0.0.1:{iiif.port}",
            "version": 2,
            "max_width": None,
            "max_height": None,
        },
    }
    assert iiif.requests == ["/iiif/2/page-1/info.json"]
    # A second image on the same server reuses it; RetrieveImage reads it back.
    second = create_image(api, iiif.image_url("page-2", 2))
    assert second["server"] == image["server"] and second["path"] == "page-2"
    assert api.get(f"/api/v1/image/{second['id']}/").json == second
    # IIIF 3: another prefix, another server, with the limits its info.json gives.
    v3 = create_image(api, iiif.image_url("page-1", 3))
    assert v3["server"]["version"] == 3 and v3["server"]["max_width"] == 4000
    assert v3["server"]["url"] == f"{iiif.url}/iiif/3"


def test_a_known_url_answers_400_with_the_image_id(api: Api, iiif: IIIFServer, bob: Any) -> None:
    image = create_image(api, iiif.image_url("page-1"))
    before = len(iiif.requests)
    for who in (api, api.as_user(bob)):
        body = assert_error(
            who.post("/api/v1/image/iiif/url/", {"url": iiif.image_url("page-1") + "/"}),
            400, "validation_error", "unique", ["url"],
        )
        # The Arkindex CLI reads `id`; scripts of this API read `existing_id`.
        assert body["id"] == image["id"] and body["existing_id"] == image["id"]
    assert len(iiif.requests) == before  # known: the server is not asked again


def test_given_width_and_height_skip_the_fetch_until_the_image_is_marked_checked(
    api: Api, iiif: IIIFServer, container: Container,
) -> None:
    wrong = create_image(api, iiif.image_url("scan-8"), width=800, height=600)
    right = create_image(api, iiif.image_url("scan-9"), width=PAGE_SIZE[0], height=PAGE_SIZE[1])
    assert (wrong["width"], wrong["height"], wrong["status"]) == (800, 600, "unchecked")
    assert iiif.requests == []
    # Marking an image checked asks its server: the right size is checked, the wrong one refused.
    updated = api.patch(f"/api/v1/image/{right['id']}/", {"status": "checked"})
    assert updated.status_code == 200 and updated.json["status"] == "checked"
    assert api.get(f"/api/v1/image/{right['id']}/").json["status"] == "checked"
    assert iiif.requests == ["/iiif/2/scan-9/info.json"]
    before = head(container)
    body = assert_error(api.patch(f"/api/v1/image/{wrong['id']}/", {"status": "checked"}),
                        400, "validation_error", "invalid", ["status"])
    assert "gives 1200 x 1600 pixels, not the registered 800 x 600" in body["errors"][0]["detail"]
    assert head(container) == before
    # Other statuses are the caller's word.
    assert api.patch(f"/api/v1/image/{wrong['id']}/", {"status": "error"}).json["status"] == "error"
    assert len(iiif.requests) == 2
    assert_error(api.patch(f"/api/v1/image/{wrong['id']}/", {"status": "lost"}),
                 400, "validation_error", "invalid_choice", ["status"])
    assert_error(api.post("/api/v1/image/iiif/url/", {"url": f"{iiif.url}/iiif/2/x", "width": 800}),
                 400, "validation_error", "invalid")


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("html", "did not answer JSON"),
        ("missing", "answered HTTP 404"),
        ("huge", "more than 1024 KiB"),
        ("loop", "redirects in a loop"),
    ],
)
def test_a_server_that_is_not_iiif_is_a_clear_400_and_nothing_is_stored(
    api: Api, iiif: IIIFServer, container: Container, prefix: str, message: str,
) -> None:
    before = head(container)
    url = f"{iiif.url}/{prefix}/page-1"
    body = assert_error(api.post("/api/v1/image/iiif/url/", {"url": url}), 400, "validation_error", "invalid",
                        ["url"])
    assert message in body["errors"][0]["detail"] and url in body["errors"][0]["detail"]
    assert head(container) == before


def test_a_server_that_hangs_is_a_400_on_time_and_nothing_is_stored(
    engine: Engine, tmp_path: Path, iiif: IIIFServer,
) -> None:
    """The fetch is bounded in time (10 s in production; 1 s here, injected through bootstrap)."""
    import time

    import falcon.testing

    from api.app import create_app
    from integrations.iiif import IIIFInfoClient
    from tests.api_support import Api, BackgroundProjector, make_user

    impatient = bootstrap(settings_for(engine, tmp_path), engine=engine,
                          iiif=IIIFInfoClient(allow_private=True, timeout=1.0))
    projector = BackgroundProjector(engine).start()
    try:
        api = Api(falcon.testing.TestClient(create_app(impatient)), make_user(impatient, "dave"))
        before = head(impatient)
        started = time.monotonic()
        body = assert_error(api.post("/api/v1/image/iiif/url/", {"url": f"{iiif.url}/hang/page-1"}),
                            400, "validation_error", "invalid", ["url"])
        assert time.monotonic() - started < 5
        detail = body["errors"][0]["detail"]
        assert detail == f"{iiif.url}/hang/page-1/info.json did not answer within 1 seconds."
        assert head(impatient) == before
    finally:
        projector.stop()


def test_private_addresses_are_refused_without_the_switch(
    engine: Engine, tmp_path: Path, iiif: IIIFServer,
) -> None:
    import falcon.testing

    from api.app import create_app
    from tests.api_support import Api, BackgroundProjector, make_user

    guarded = bootstrap(settings_for(engine, tmp_path), engine=engine)
    projector = BackgroundProjector(engine).start()
    try:
        api = Api(falcon.testing.TestClient(create_app(guarded)), make_user(guarded, "carol"))
        before = head(guarded)
        body = assert_error(api.post("/api/v1/image/iiif/url/", {"url": iiif.image_url("page-1")}),
                            400, "validation_error", "invalid", ["url"])
        assert "internal address" in body["errors"][0]["detail"]
        assert "WORKER_RUNS_IIIF_ALLOW_PRIVATE=1" in body["errors"][0]["detail"]
        assert head(guarded) == before and iiif.requests == []
    finally:
        projector.stop()


def test_unknown_images_and_bad_urls(api: Api) -> None:
    assert_error(api.get("/api/v1/image/00000000-0000-4000-8000-000000000000/"), 404, "client_error",
                 "not_found")
    assert_error(api.patch("/api/v1/image/00000000-0000-4000-8000-000000000000/", {"status": "checked"}),
                 404, "client_error", "not_found")
    for url in ("file:///etc/passwd", "https://example.org", "gopher://x/y"):
        assert_error(api.post("/api/v1/image/iiif/url/", {"url": url}), 400, "validation_error", "invalid",
                     ["url"])
    assert_error(api.as_user(None).post("/api/v1/image/iiif/url/", {"url": "https://example.org/iiif/x"}),
                 401, "client_error", "not_authenticated")


def test_the_official_client_recovers_a_known_image_like_the_cli(
    container: Container, iiif: IIIFServer,
) -> None:
    """arkindex-cli 0.5's `create_iiif_image`, step by step, with the unmodified arkindex-client
    over real HTTP: CreateIIIFURL; on a 400 whose body has `id`, RetrieveImage."""
    from arkindex import ArkindexClient
    from arkindex.exceptions import ErrorResponse

    from api.app import create_app
    from tests.api_support import BackgroundProjector, ServerThread, make_user

    user = make_user(container, "alice")
    projector = BackgroundProjector(container.engine).start()
    try:
        with ServerThread(create_app(container)) as server:
            client = ArkindexClient(token=user.token, base_url=server.url)
            url = iiif.image_url("page-1")
            created = client.request("CreateIIIFURL", body={"url": url})
            with pytest.raises(ErrorResponse) as known:
                client.request("CreateIIIFURL", body={"url": url})
            assert known.value.status_code == 400 and known.value.content["id"] == created["id"]
            again = client.request("RetrieveImage", id=known.value.content["id"])
            assert again == created and again["status"] == "checked"
            with pytest.raises(ErrorResponse) as broken:
                client.request("CreateIIIFURL", body={"url": f"{iiif.url}/html/page-1"})
            assert broken.value.status_code == 400 and "id" not in broken.value.content
    finally:
        projector.stop()
