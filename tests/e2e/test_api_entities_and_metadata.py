"""Transcription entities, duplicate metadata and StartWorkerActivity (issue 10 B) through the
unmodified `arkindex-client` over real HTTP, on SQLite and PostgreSQL: the bodies
base-worker 0.6 sends, and the error shapes base-worker and arkindex-cli 0.5 parse."""

from __future__ import annotations

import re
from typing import Any

import pytest
from arkindex import ArkindexClient
from arkindex.exceptions import ErrorResponse

from tests.api_support import ServerThread, make_user
from worker_runs.bootstrap import Container

# arkindex-cli 0.5, arkindex_cli/commands/upload/alto/__init__.py, verbatim
REGEX_METADATA_ERROR = re.compile(r"Metadata ({.*}) already exist\(s\) on this element\.")


@pytest.fixture
def cli(server: ServerThread, container: Container) -> ArkindexClient:
    return ArkindexClient(token=make_user(container, "alice").token, base_url=server.url)


@pytest.fixture
def page(cli: ArkindexClient) -> dict[str, Any]:
    corpus = cli.request("CreateCorpus", body={"name": "Letters"})["id"]
    cli.request("CreateElementType", body={"corpus": corpus, "slug": "page", "display_name": "Page"})
    element = cli.request("CreateElement", body={"corpus": corpus, "type": "page", "name": "p1"})["id"]
    worker = cli.request("CreateWorker", body={"name": "NER", "slug": "ner", "type": "ner"})
    version = cli.request("CreateWorkerVersion", id=worker["id"], body={})
    run = cli.request("CreateUserWorkerRun", body={"worker_version_id": version["id"]})["id"]
    text = "Paris, le 3 mai 1789"
    transcription = cli.request("CreateTranscription", id=element, body={"text": text, "worker_run_id": run})
    return {"corpus": corpus, "element": element, "run": run, "transcription": transcription["id"]}


def _status(call: Any) -> tuple[int, Any]:
    with pytest.raises(ErrorResponse) as error:
        call()
    return error.value.status_code, error.value.content


def test_entity_types_per_corpus(cli: ArkindexClient, page: dict[str, Any]) -> None:
    assert list(cli.paginate("ListCorpusEntityTypes", id=page["corpus"])) == []
    place = cli.request("CreateEntityType", body={"name": "place", "corpus": page["corpus"]})
    assert place == {"id": place["id"], "name": "place", "color": "ff0000", "corpus": page["corpus"]}
    cli.request("CreateEntityType", body={"name": "date", "corpus": page["corpus"], "color": "00ff00"})
    # base-worker reloads the list on a 400 here, and finds the type.
    duplicate = {"name": "place", "corpus": page["corpus"]}
    status, body = _status(lambda: cli.request("CreateEntityType", body=duplicate))
    assert status == 400 and body["existing_id"] == place["id"] and body["errors"][0]["code"] == "unique"
    listed = [(t["name"], t["color"]) for t in cli.paginate("ListCorpusEntityTypes", id=page["corpus"])]
    assert listed == [("date", "00ff00"), ("place", "ff0000")]


def test_transcription_entities_signed_unique_and_inside_the_text(
    cli: ArkindexClient, page: dict[str, Any], server: ServerThread, container: Container,
) -> None:
    place = cli.request("CreateEntityType", body={"name": "place", "corpus": page["corpus"]})["id"]
    date = cli.request("CreateEntityType", body={"name": "date", "corpus": page["corpus"]})["id"]
    tr, run = page["transcription"], page["run"]
    first = {"type_id": place, "offset": 0, "length": 5, "worker_run_id": run}
    created = cli.request("CreateTranscriptionEntity", id=tr, body={**first, "confidence": 0.9})
    assert created["type"]["name"] == "place" and created["worker_run"]["id"] == run
    assert (created["offset"], created["length"], created["confidence"]) == (0, 5, 0.9)

    # Unique per (transcription, type, offset, length, worker run).
    status, body = _status(lambda: cli.request("CreateTranscriptionEntity", id=tr, body=first))
    assert status == 400 and body["errors"][0]["code"] == "unique"
    unsigned_body = {"type_id": place, "offset": 0, "length": 5}
    manual = cli.request("CreateTranscriptionEntity", id=tr, body=unsigned_body)
    assert manual["worker_run"] is None

    entities = [
        {"type_id": date, "offset": 11, "length": 9, "confidence": 1.0},
        {"type_id": place, "offset": 7, "length": 2},
    ]
    bulk = cli.request(
        "CreateTranscriptionEntities", id=tr, body={"worker_run_id": run, "transcription_entities": entities},
    )
    assert len(bulk["transcription_entities"]) == 2

    signed = list(cli.paginate("ListTranscriptionEntities", id=tr, worker_run=run))
    assert [(e["type"]["name"], e["offset"], e["length"]) for e in signed] == [
        ("place", 0, 5), ("place", 7, 2), ("date", 11, 9),
    ]
    unsigned = cli.paginate("ListTranscriptionEntities", id=tr, worker_run=False)
    assert [e["id"] for e in unsigned] == [manual["id"]]

    # Refused, and nothing written: a span past the text (20 characters), an unknown type, a
    # duplicate inside one bulk request, someone else's transcription.
    for body in (
        {"type_id": date, "offset": 15, "length": 6},
        {"type_id": page["corpus"], "offset": 0, "length": 1},
    ):
        status, _ = _status(lambda body=body: cli.request("CreateTranscriptionEntity", id=tr, body=body))
        assert status == 400, body
    twice = {"type_id": date, "offset": 0, "length": 1}
    status, _ = _status(lambda: cli.request(
        "CreateTranscriptionEntities", id=tr, body={"transcription_entities": [twice, twice]}))
    assert status == 400
    bob = ArkindexClient(token=make_user(container, "bob").token, base_url=server.url)
    status, _ = _status(lambda: bob.request("CreateTranscriptionEntity", id=tr, body=twice))
    assert status == 404
    status, _ = _status(lambda: bob.request("ListTranscriptionEntities", id=tr))
    assert status == 404
    assert len(list(cli.paginate("ListTranscriptionEntities", id=tr))) == 4


def test_duplicate_metadata_answer_the_cli_parses(cli: ArkindexClient, page: dict[str, Any]) -> None:
    element, run = page["element"], page["run"]
    first = [{"type": "reference", "name": "Alto ID", "value": "PAGE1"},
             {"type": "numeric", "name": "Index", "value": 3}]
    cli.request("CreateMetaDataBulk", id=element, body={"worker_run_id": run, "metadata_list": first})
    again = [*first, {"type": "text", "name": "Note", "value": "it's 'quoted'"}]
    status, body = _status(lambda: cli.request(
        "CreateMetaDataBulk", id=element, body={"worker_run_id": run, "metadata_list": again}))
    assert status == 400 and body["type"] == "validation_error"
    # What arkindex-cli 0.5 does with it, verbatim: match, eval, retry with the others.
    (message,) = body["non_field_errors"]
    content = REGEX_METADATA_ERROR.fullmatch(message)
    assert content is not None
    existing = eval(content.group(1))  # noqa: S307 - exactly what the CLI does
    assert existing == {("Alto ID", "reference", "PAGE1"), ("Index", "numeric", 3)}
    missing = [m for m in again if (m["name"], m["type"], m["value"]) not in existing]
    cli.request("CreateMetaDataBulk", id=element, body={"worker_run_id": run, "metadata_list": missing})
    names = sorted(m["name"] for m in cli.paginate("ListElementMetaData", id=element))
    assert names == ["Alto ID", "Index", "Note"]


def test_start_worker_activity_is_post_and_answers_404(cli: ArkindexClient) -> None:
    # The official client reads the method from our schema: base-worker's iterator stops on 404.
    status, body = _status(lambda: cli.request("StartWorkerActivity"))
    assert status == 404 and body["errors"][0]["code"] == "not_found"
