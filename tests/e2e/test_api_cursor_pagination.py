"""Cursor-style pagination (arkindex-api.md §3) of the provenance listings, ListWorkerRunResults
and ListUserResults, on SQLite and PostgreSQL: keyset pages in creation order that concatenate
to the whole list, `previous` links, `count` on request, bad cursors as 400s, appends while a
client pages, and the unmodified official client paging over real HTTP in cursor mode.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import falcon
import pytest
from arkindex import ArkindexClient
from arkindex.pagination import PaginationMode
from click.testing import CliRunner

from api.pagination import encode_cursor
from commands import messages as m
from domain.actor import Actor
from projections.consistency import wait_for_position
from projections.registry import PROJECTIONS
from tests.api_support import Api, ApiUser, BackgroundProjector, ServerThread, assert_error
from worker_runs.bootstrap import Container

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Scene:
    """Alice's corpus and run, and what the run signed so far, in the expected list order."""

    container: Container
    actor: Actor
    corpus_id: str
    page_id: str
    class_id: str
    run_id: str
    #: (type, id) in creation order: one event per object, so a bulk command's objects are
    #: in the order of its items
    signed: list[tuple[str, str]]

    def sign_transcriptions(self, count: int) -> None:
        items = tuple(m.TranscriptionItem(element_id=self.page_id, text=f"t{n}") for n in range(count))
        data = self._handle(m.CreateTranscriptions(items=items, worker_run_id=self.run_id))
        self.signed.extend(("transcription", i) for i in data["transcription_ids"])

    def sign_element(self, name: str) -> None:
        data = self._handle(m.CreateElement(
            corpus_id=self.corpus_id, type="page", name=name, parent_id=self.page_id,
            worker_run_id=self.run_id,
        ))
        self.signed.append(("element", data["element_id"]))

    def sign_classifications(self) -> None:
        item = m.ClassificationItem(ml_class_id=self.class_id, confidence=0.5)
        data = self._handle(
            m.CreateClassifications(element_id=self.page_id, items=(item,), worker_run_id=self.run_id)
        )
        self.signed.extend(("classification", i) for i in data["classification_ids"])

    def sign_metadata(self, count: int) -> None:
        items = tuple(m.MetaDataItem(type="text", name=f"md{n}", value=str(n)) for n in range(count))
        data = self._handle(
            m.CreateMetaDataBulk(element_id=self.page_id, items=items, worker_run_id=self.run_id)
        )
        self.signed.extend(("metadata", i) for i in data["metadata_ids"])

    def _handle(self, command: m.Command) -> dict[str, Any]:
        result = self.container.bus.handle(command, actor=self.actor)
        return dict(result.data)

    def settle(self) -> None:
        """Wait for the projections (the writes went through the bus, not through the API)."""
        assert wait_for_position(
            self.container.engine, self.container.store.head(), names=list(PROJECTIONS), timeout=60,
        )


def make_scene(container: Container, user: ApiUser) -> Scene:
    bus, actor = container.bus, user.actor
    corpus_id = bus.handle(m.CreateCorpus(name="Cursor"), actor=actor).data["corpus_id"]
    bus.handle(m.CreateElementType(corpus_id=corpus_id, slug="page", display_name="Page"), actor=actor)
    page_id = bus.handle(m.CreateElement(corpus_id=corpus_id, type="page", name="P"), actor=actor).data[
        "element_id"
    ]
    class_id = bus.handle(m.CreateMLClass(corpus_id=corpus_id, name="printed"), actor=actor).data["class_id"]
    worker_id = bus.handle(m.CreateWorker(name="HTR", slug="htr", type="htr"), actor=actor).data["worker_id"]
    version_id = bus.handle(m.CreateWorkerVersion(worker_id=worker_id), actor=actor).data["version_id"]
    run_id = bus.handle(m.CreateUserRun(worker_version_id=version_id), actor=actor).data["run_id"]
    return Scene(container, actor, corpus_id, page_id, class_id, run_id, [])


def twelve_signed(container: Container, user: ApiUser) -> Scene:
    """12 objects of every type, from single and bulk commands."""
    scene = make_scene(container, user)
    scene.sign_transcriptions(4)
    scene.sign_element("line 1")
    scene.sign_classifications()
    scene.sign_metadata(3)
    scene.sign_element("line 2")
    scene.sign_transcriptions(2)
    scene.settle()
    assert len(scene.signed) == 12
    return scene


def results_path(scene: Scene) -> str:
    return f"/api/v1/process/workers/{scene.run_id}/results/"


def follow(api: Api, url: str) -> dict[str, Any]:
    """GET a `next`/`previous` link as given (absolute URL: path and query string)."""
    parts = urlsplit(url)
    result = api.get(parts.path, query_string=parts.query)
    assert result.status_code == 200, result.text
    return result.json


def items(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["type"], r["id"]) for r in body["results"]]


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


# --- pages concatenate to the whole list ---------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 3, 4, 5, 7, 12, 13, 500])
def test_pages_concatenate_to_the_whole_list_and_walk_back(
    api: Api, container: Container, alice: ApiUser, page_size: int,
) -> None:
    scene = twelve_signed(container, alice)
    first = api.get(results_path(scene), params={"page_size": page_size, "with_count": "true"})
    assert first.status_code == 200, first.text
    body = first.json
    assert set(body) == {"next", "previous", "count", "results"}
    assert body["count"] == 12 and body["previous"] is None
    pages = [items(body)]
    while body["next"] is not None:
        body = follow(api, body["next"])
        # Asked on the first page only (as the official client does): not recounted.
        assert body["count"] is None
        assert body["next"] is None or "with_count" not in body["next"]
        pages.append(items(body))
    assert [item for page in pages for item in page] == scene.signed
    # Full pages, then the rest; never an empty last page (12 is a multiple of 1, 3, 4, 12).
    full, rest = divmod(12, page_size)
    assert [len(page) for page in pages] == [page_size] * full + ([rest] if rest else [])

    # `previous` walks back through the same pages, and is null on the first one.
    back = [items(body)]
    while body["previous"] is not None:
        body = follow(api, body["previous"])
        assert body["next"] is not None
        back.append(items(body))
    assert back == pages[::-1]


def test_filters_are_kept_in_the_links(api: Api, container: Container, alice: ApiUser) -> None:
    scene = twelve_signed(container, alice)
    body = api.get(results_path(scene), params={"type": "transcription", "page_size": 2}).json
    assert "type=transcription" in body["next"] and "page_size=2" in body["next"]
    listed = items(body)
    while body["next"]:
        body = follow(api, body["next"])
        listed.extend(items(body))
    assert listed == [item for item in scene.signed if item[0] == "transcription"]
    assert len(listed) == 6


def test_count_only_with_with_count(api: Api, container: Container, alice: ApiUser) -> None:
    scene = twelve_signed(container, alice)
    assert api.get(results_path(scene)).json["count"] is None
    assert api.get(results_path(scene), params={"with_count": "false"}).json["count"] is None
    assert api.get(results_path(scene), params={"with_count": "true"}).json["count"] == 12
    # The count is the whole list's (with the filters), even from a cursor.
    second = api.get(results_path(scene), params={"page_size": 5}).json["next"]
    assert api.get(
        results_path(scene), params={"cursor": cursor_of(second), "with_count": "true"},
    ).json["count"] == 12
    assert api.get(results_path(scene), params={"type": "metadata", "with_count": "true"}).json["count"] == 3


def test_empty_list(api: Api, container: Container, alice: ApiUser) -> None:
    scene = make_scene(container, alice)
    scene.settle()
    body = api.get(results_path(scene), params={"with_count": "true"}).json
    assert body == {"next": None, "previous": None, "count": 0, "results": []}


def test_user_results_are_cursor_paginated(
    api: Api, container: Container, alice: ApiUser, bob: ApiUser,
) -> None:
    bus, actor = container.bus, alice.actor
    corpus_id = bus.handle(m.CreateCorpus(name="Mine"), actor=actor).data["corpus_id"]
    bus.handle(m.CreateElementType(corpus_id=corpus_id, slug="page", display_name="Page"), actor=actor)
    made = [
        ("element", bus.handle(m.CreateElement(corpus_id=corpus_id, type="page", name=f"p{n}"), actor=actor)
         .data["element_id"])
        for n in range(7)
    ]
    # Someone else's objects are not in alice's list.
    other = bus.handle(m.CreateCorpus(name="Bob's"), actor=bob.actor).data["corpus_id"]
    bus.handle(m.CreateElementType(corpus_id=other, slug="page", display_name="Page"), actor=bob.actor)
    bus.handle(m.CreateElement(corpus_id=other, type="page", name="b"), actor=bob.actor)
    assert wait_for_position(container.engine, container.store.head(), names=list(PROJECTIONS), timeout=60)

    body = api.get("/api/v1/user/results/", params={"page_size": 3, "with_count": "true"}).json
    assert body["count"] == 7
    listed = items(body)
    while body["next"]:
        body = follow(api, body["next"])
        listed.extend(items(body))
    assert listed == made


# --- bad cursors ---------------------------------------------------------------------------------


def _raw(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


BAD_CURSORS = [
    "",
    "not a cursor",
    "%%%",
    "abc",  # not valid base64 (length)
    "AAAA",  # valid base64, not JSON
    base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),  # not UTF-8
    _raw([1, "element", "x"]),  # JSON, not an object
    _raw({"k": [1, "element", "x"]}),  # no direction
    _raw({"k": [1, "element", "x"], "d": "sideways"}),
    _raw({"k": [1, "element", "x"], "d": "next", "extra": 1}),
    _raw({"k": [1, "element"], "d": "next"}),  # another list's key
    _raw({"k": "1,element,x", "d": "next"}),
    _raw({"k": ["1", "element", "x"], "d": "next"}),  # position as text
    _raw({"k": [True, "element", "x"], "d": "next"}),
    _raw({"k": [1.5, "element", "x"], "d": "next"}),
    _raw({"k": [-1, "element", "x"], "d": "next"}),
    _raw({"k": [2**63, "element", "x"], "d": "next"}),  # past BIGINT: would fail in SQL
    _raw({"k": [1, None, "x"], "d": "next"}),
    _raw({"k": [1, "element", "x\u0000"], "d": "next"}),  # PostgreSQL refuses NUL in text
    _raw({"k": [1, "element", "x" * 300], "d": "next"}),
    "A" * 2000,
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_bad_cursor_is_a_validation_error(
    api: Api, container: Container, alice: ApiUser, cursor: str,
) -> None:
    scene = make_scene(container, alice)
    scene.settle()
    for path in (results_path(scene), "/api/v1/user/results/"):
        assert_error(api.get(path, params={"cursor": cursor}), 400, "validation_error", "invalid", ["cursor"])


def test_page_numbers_are_not_accepted(api: Api, container: Container, alice: ApiUser) -> None:
    scene = make_scene(container, alice)
    scene.settle()
    assert_error(api.get(results_path(scene), params={"page": 2}), 400, "validation_error", "unknown_field")


def test_a_well_formed_cursor_of_no_row_is_a_page(api: Api, container: Container, alice: ApiUser) -> None:
    """A cursor is only a position in the order: one beyond the end gives an empty last page."""
    scene = twelve_signed(container, alice)
    beyond = encode_cursor([2**62, "transcription", "z"], backwards=False)
    body = api.get(results_path(scene), params={"cursor": beyond}).json
    assert body["results"] == [] and body["next"] is None
    before = encode_cursor([0, "a", "a"], backwards=True)
    assert api.get(results_path(scene), params={"cursor": before}).json["results"] == []


# --- appends while paging ------------------------------------------------------------------------


def test_appends_while_paging_never_skip_or_repeat(api: Api, container: Container, alice: ApiUser) -> None:
    scene = twelve_signed(container, alice)
    body = api.get(results_path(scene), params={"page_size": 5, "with_count": "true"}).json
    listed = items(body)
    first_twelve = list(scene.signed)
    pages = 1
    while body["next"]:
        # A bulk import and one more object land between two pages, every time: the reader
        # still catches up, reading 5 for 3 appended per page.
        scene.sign_transcriptions(2)
        scene.sign_element(f"late {len(listed)}")
        scene.settle()
        body = follow(api, body["next"])
        listed.extend(items(body))
        pages += 1
    # Page k sees 12 + 3(k-1) objects: the 5th (4 objects, after 20) is the last.
    assert pages == 5 and len(listed) == 24
    # Everything that existed when paging started, in order, once; then what came after.
    assert len(listed) == len(set(listed))
    assert listed[:12] == first_twelve
    assert listed == scene.signed


# --- the unmodified official client, over real HTTP ----------------------------------------------


class Recorder:
    """WSGI middleware: the query strings the client sent to the results listing."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.queries: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").endswith("/results/"):
            self.queries.append(environ.get("QUERY_STRING", ""))
        return self.app(environ, start_response)


def test_official_client_paginates_in_cursor_mode(
    app: falcon.App, projector: BackgroundProjector, container: Container, alice: ApiUser,
) -> None:
    scene = twelve_signed(container, alice)
    recorder = Recorder(app)
    with ServerThread(recorder) as server:  # type: ignore[arg-type]
        client = ArkindexClient(token=alice.token, base_url=server.url)
        for page_size in (1, 4, 5, 12, 20):
            recorder.queries.clear()
            paginator = client.paginate("ListWorkerRunResults", id=scene.run_id, page_size=page_size)
            assert paginator.mode is PaginationMode.Cursor
            listed = [(r["type"], r["id"]) for r in paginator]
            assert listed == scene.signed, page_size
            assert len(paginator) == 12
            pages = -(-12 // page_size)
            assert len(recorder.queries) == pages
            assert "with_count=true" in recorder.queries[0] and "cursor=" not in recorder.queries[0]
            assert all("cursor=" in query for query in recorder.queries[1:])
            assert not any("page=" in query for query in recorder.queries)

        # The client pages lazily: objects appended after its first page are read at the end,
        # and nothing it already has is read again.
        paginator = client.paginate("ListWorkerRunResults", id=scene.run_id, page_size=5)
        first = next(paginator)
        before = list(scene.signed)
        scene.sign_transcriptions(4)
        scene.settle()
        listed = [(first["type"], first["id"]), *((r["type"], r["id"]) for r in paginator)]
        assert listed == scene.signed and scene.signed[:12] == before and len(listed) == 16
        # Filters go through with the cursor.
        only = [r["id"] for r in client.paginate("ListWorkerRunResults", id=scene.run_id, type="element",
                                                 page_size=1)]
        assert only == [i for t, i in scene.signed if t == "element"]
        mine = [r["id"] for r in client.paginate("ListUserResults", page_size=1)]
        assert mine == [scene.page_id]


# --- the same keyset pages, below the API ---------------------------------------------------------


def test_provenance_command_lists_every_keyset_page(
    projector: BackgroundProjector, container: Container, alice: ApiUser, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker_runs import cli, cli_context, cli_provenance

    scene = twelve_signed(container, alice)
    monkeypatch.setattr(cli_context, "bootstrap", lambda: container)
    monkeypatch.setattr(cli_provenance, "PAGE_SIZE", 5)
    result = CliRunner().invoke(cli.main, ["provenance", scene.run_id, "--json", "--wait", "0"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    listed = [(row["type"], row["id"]) for row in map(json.loads, result.output.splitlines())]
    assert listed == scene.signed


def test_keyset_helper_with_a_descending_key(
    projector: BackgroundProjector, container: Container, alice: ApiUser,
) -> None:
    """The generic helper on another list (user runs, newest first: a descending position and
    an ascending id), compared with the page-number query of the same list."""
    import sqlalchemy as sa

    from projections import queries as q
    from projections.generations import live_generation
    from projections.tables import rm_user_runs

    bus, actor = container.bus, alice.actor
    worker_id = bus.handle(m.CreateWorker(name="OCR", slug="ocr", type="ocr"), actor=actor).data["worker_id"]
    for _ in range(7):
        version_id = bus.handle(m.CreateWorkerVersion(worker_id=worker_id), actor=actor).data["version_id"]
        bus.handle(m.CreateUserRun(worker_version_id=version_id), actor=actor)
    assert wait_for_position(container.engine, container.store.head(), names=list(PROJECTIONS), timeout=60)
    sort = [
        q.SortKey(rm_user_runs.c.created_position, "created_position", descending=True),
        q.SortKey(rm_user_runs.c.run_id, "run_id"),
    ]
    with container.engine.connect() as conn:
        expected = [row["run_id"] for row in q.list_user_runs(conn, alice.user_id, limit=100).rows]
        query = sa.select(rm_user_runs).where(
            rm_user_runs.c.generation == live_generation(conn, q.USER_RUNS),
            rm_user_runs.c.user_id == alice.user_id,
        )
        page = q._keyset(conn, query, sort, q.Keyset(limit=3, with_count=True))
        assert page.count == 7 and not page.has_previous
        pages = [page]
        while pages[-1].has_next:
            last = pages[-1]
            pages.append(q._keyset(conn, query, sort, q.Keyset(after=last.key(last.rows[-1]), limit=3)))
        assert [row["run_id"] for p in pages for row in p.rows] == expected
        assert [len(p.rows) for p in pages] == [3, 3, 1]
        back = q._keyset(conn, query, sort, q.Keyset(after=pages[-1].key(pages[-1].rows[0]), backwards=True,
                                                     limit=3))
        assert back.rows == pages[1].rows and back.has_next and back.has_previous
