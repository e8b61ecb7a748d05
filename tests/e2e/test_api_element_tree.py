"""The element tree (issue 10 B) through the unmodified `arkindex-client` over real HTTP, on
SQLite and PostgreSQL: CreateElementParent / CreateElementChildren, ListElements,
ListElementChildren and ListElementParents with the filters base-worker and the CLI send."""

from __future__ import annotations

from typing import Any

import pytest
from arkindex import ArkindexClient
from arkindex.exceptions import ErrorResponse

from tests.api_support import ApiUser, ServerThread, make_user
from worker_runs.bootstrap import Container


@pytest.fixture
def alice_user(container: Container) -> ApiUser:
    return make_user(container, "alice")


@pytest.fixture
def cli(server: ServerThread, alice_user: ApiUser) -> ArkindexClient:
    return ArkindexClient(token=alice_user.token, base_url=server.url)


def _names(items: Any) -> list[str]:
    return [item["name"] for item in items]


def _element(cli: ArkindexClient, corpus: str, type: str, name: str, **fields: Any) -> dict[str, Any]:
    return cli.request("CreateElement", body={"corpus": corpus, "type": type, "name": name, **fields})


@pytest.fixture
def tree(cli: ArkindexClient) -> dict[str, Any]:
    """Box 1 > Page 1 > Line 1 (Line 1 signed by a user worker run), Box 2 (empty)."""
    corpus = cli.request("CreateCorpus", body={"name": "Registers"})["id"]
    for slug, folder in (("folder", True), ("page", False), ("text_line", False)):
        cli.request("CreateElementType", body={"corpus": corpus, "slug": slug, "display_name": slug,
                                               "folder": folder})
    worker = cli.request("CreateWorker", body={"name": "Segmenter", "slug": "segmenter", "type": "dla"})
    version = cli.request("CreateWorkerVersion", id=worker["id"], body={})
    run = cli.request("CreateUserWorkerRun", body={"worker_version_id": version["id"]})["id"]
    box1 = _element(cli, corpus, "folder", "Box 1")["id"]
    box2 = _element(cli, corpus, "folder", "Box 2")["id"]
    page = _element(cli, corpus, "page", "Page 1", parent=box1)["id"]
    line = _element(cli, corpus, "text_line", "Line 1", parent=page, worker_run_id=run)["id"]
    return {"corpus": corpus, "run": run, "box1": box1, "box2": box2, "page": page, "line": line}


def test_a_second_parent_and_recursive_listings(cli: ArkindexClient, tree: dict[str, Any]) -> None:
    linked = cli.request("CreateElementParent", child=tree["page"], parent=tree["box2"])
    assert linked == {"child": tree["page"], "parent": tree["box2"]}

    parents = list(cli.paginate("ListElementParents", id=tree["page"]))
    assert sorted(_names(parents)) == ["Box 1", "Box 2"]
    assert _names(cli.paginate("ListElementParents", id=tree["line"])) == ["Page 1"]
    assert _names(cli.paginate("ListElementParents", id=tree["line"], recursive=True)) == [
        "Box 1", "Box 2", "Page 1",
    ]
    # The line is now below both boxes, through the page's new parent.
    assert _names(cli.paginate("ListElementChildren", id=tree["box2"])) == ["Page 1"]
    below = cli.paginate("ListElementChildren", id=tree["box2"], recursive=True)
    assert _names(below) == ["Page 1", "Line 1"]
    # Recursive transcriptions follow the added parent too.
    cli.request("CreateTranscription", id=tree["line"], body={"text": "Anno 1789"})
    texts = [t["text"] for t in cli.paginate("ListTranscriptions", id=tree["box2"], recursive=True)]
    assert texts == ["Anno 1789"]


def test_duplicate_link_answers_what_the_cli_parses(cli: ArkindexClient, tree: dict[str, Any]) -> None:
    with pytest.raises(ErrorResponse) as duplicate:
        cli.request("CreateElementParent", child=tree["page"], parent=tree["box1"])
    assert duplicate.value.status_code == 400
    content = duplicate.value.content
    # arkindex-cli 0.5 (upload alto) ignores exactly this: "is already a parent of" in `parent`.
    assert content["parent"] == [f"{tree['box1']} is already a parent of {tree['page']}."]
    assert content["type"] == "validation_error" and content["errors"][0]["code"] == "unique"


@pytest.mark.parametrize("child, parent", [("box1", "line"), ("box1", "page"), ("page", "page")])
def test_a_link_that_would_make_a_cycle_is_refused(
    cli: ArkindexClient, tree: dict[str, Any], child: str, parent: str,
) -> None:
    with pytest.raises(ErrorResponse) as refused:
        cli.request("CreateElementParent", child=tree[child], parent=tree[parent])
    assert refused.value.status_code == 400
    assert refused.value.content["errors"][0]["attr"] == ["parent"]
    assert "cycle" in refused.value.content["errors"][0]["detail"]
    # Nothing was linked: the tree is unchanged.
    assert _names(cli.paginate("ListElementParents", id=tree[child])) == (
        [] if child == "box1" else ["Box 1"]
    )


def test_create_element_children_is_all_or_nothing(cli: ArkindexClient, tree: dict[str, Any]) -> None:
    other = _element(cli, tree["corpus"], "page", "Page 2")["id"]
    with pytest.raises(ErrorResponse) as refused:  # Page 1 is already in Box 1
        cli.request("CreateElementChildren", id=tree["box1"], body={"children": [other, tree["page"]]})
    assert refused.value.status_code == 400
    assert _names(cli.paginate("ListElementChildren", id=tree["box1"])) == ["Page 1"]

    answer = cli.request("CreateElementChildren", id=tree["box2"], body={"children": [other, tree["page"]]})
    assert answer == {"children": [other, tree["page"]]}
    assert _names(cli.paginate("ListElementChildren", id=tree["box2"])) == ["Page 1", "Page 2"]


def test_list_elements_filters(cli: ArkindexClient, tree: dict[str, Any]) -> None:
    corpus = tree["corpus"]

    def names(**filters: Any) -> list[str]:
        return _names(cli.paginate("ListElements", corpus=corpus, **filters))

    assert names() == ["Box 1", "Box 2", "Page 1", "Line 1"]
    assert names(type="page") == ["Page 1"]
    assert names(name="box") == ["Box 1", "Box 2"]
    assert names(folder=True) == ["Box 1", "Box 2"]
    assert names(folder=False) == ["Page 1", "Line 1"]
    assert names(top_level=True) == ["Box 1", "Box 2"]
    assert names(top_level=False) == ["Page 1", "Line 1"]
    # The Arkindex provenance filter, as base-worker sends it (a run id, or the literal False).
    assert names(worker_run=tree["run"]) == ["Line 1"]
    assert names(worker_run=False) == ["Box 1", "Box 2", "Page 1"]
    assert names(type="folder", top_level=True, name="2") == ["Box 2"]
    cli.request("CreateTranscription", id=tree["page"], body={"text": "x", "worker_run_id": tree["run"]})
    assert names(transcription_worker_run=tree["run"]) == ["Page 1"]
    assert names(transcription_worker_run=False) == []
    # The same filters on the children listings.
    assert _names(cli.paginate("ListElementChildren", id=tree["box1"], recursive=True, worker_run=False)) == [
        "Page 1",
    ]
    assert _names(cli.paginate("ListElementChildren", id=tree["box1"], recursive=True,
                               worker_run=tree["run"])) == ["Line 1"]
    assert _names(cli.paginate("ListElementChildren", id=tree["box1"], recursive=True, type="text_line")) == [
        "Line 1",
    ]
    above = cli.paginate("ListElementParents", id=tree["line"], recursive=True, folder=True)
    assert _names(above) == ["Box 1"]


def test_with_options_add_fields(cli: ArkindexClient, tree: dict[str, Any]) -> None:
    cli.request("CreateMetaData", id=tree["page"],
                body={"type": "reference", "name": "Alto ID", "value": "P1"})
    (page,) = cli.paginate("ListElements", corpus=tree["corpus"], type="page", with_has_children=True,
                           with_metadata=True, with_classes=True, with_zone=False)
    assert page["has_children"] is True and page["classes"] == [] and page["zone"] is None
    assert [(m["name"], m["value"]) for m in page["metadata"]] == [("Alto ID", "P1")]
    (line,) = cli.paginate("ListElements", corpus=tree["corpus"], type="text_line", with_has_children=True)
    assert line["has_children"] is False and "metadata" not in line
    assert line["worker_run"]["id"] == tree["run"]


def test_other_users_and_other_corpora(
    cli: ArkindexClient, tree: dict[str, Any], server: ServerThread, container: Container,
) -> None:
    bob = ArkindexClient(token=make_user(container, "bob").token, base_url=server.url)
    for call, kwargs in (
        ("ListElements", {"corpus": tree["corpus"]}),
        ("ListElementChildren", {"id": tree["box1"]}),
        ("ListElementParents", {"id": tree["page"]}),
        ("CreateElementParent", {"child": tree["page"], "parent": tree["box2"]}),
    ):
        with pytest.raises(ErrorResponse) as hidden:
            bob.request(call, **kwargs)
        assert hidden.value.status_code == 404, call
    other = cli.request("CreateCorpus", body={"name": "Other"})["id"]
    cli.request("CreateElementType",
                body={"corpus": other, "slug": "folder", "display_name": "F", "folder": True})
    elsewhere = _element(cli, other, "folder", "Elsewhere")["id"]
    with pytest.raises(ErrorResponse) as refused:
        cli.request("CreateElementParent", child=tree["page"], parent=elsewhere)
    assert refused.value.status_code == 400 and refused.value.content["errors"][0]["attr"] == ["parent"]


def _new_run(cli: ArkindexClient, slug: str) -> str:
    worker = cli.request("CreateWorker", body={"name": slug, "slug": slug, "type": "htr"})
    version = cli.request("CreateWorkerVersion", id=worker["id"], body={})
    return str(cli.request("CreateUserWorkerRun", body={"worker_version_id": version["id"]})["id"])


def test_list_corpus_worker_runs(
    cli: ArkindexClient, tree: dict[str, Any], server: ServerThread, container: Container,
) -> None:
    # The tree's run signed an element; another signs only a transcription on a manual element;
    # a third signs in another corpus only.
    htr = _new_run(cli, "htr")
    cli.request("CreateTranscription", id=tree["page"], body={"text": "x", "worker_run_id": htr})
    elsewhere = _new_run(cli, "elsewhere")
    other = cli.request("CreateCorpus", body={"name": "Other"})["id"]
    cli.request("CreateElementType", body={"corpus": other, "slug": "page", "display_name": "Page"})
    cli.request("CreateElement",
                body={"corpus": other, "type": "page", "name": "x", "worker_run_id": elsewhere})

    runs = list(cli.paginate("ListCorpusWorkerRuns", id=tree["corpus"]))
    assert [r["id"] for r in runs] == [htr, tree["run"]]  # newest first
    assert {r["summary"] for r in runs} == {"Worker htr @ version 1", "Worker Segmenter @ version 1"}
    assert all(r["worker_version"]["worker"]["slug"] in ("htr", "segmenter") for r in runs)
    assert [r["id"] for r in cli.paginate("ListCorpusWorkerRuns", id=other)] == [elsewhere]
    bob = ArkindexClient(token=make_user(container, "bob").token, base_url=server.url)
    with pytest.raises(ErrorResponse) as hidden:
        bob.request("ListCorpusWorkerRuns", id=tree["corpus"])
    assert hidden.value.status_code == 404
