# ruff: noqa: F811 - pytest fixtures imported from tests/api_support.py, requested by parameter name
"""Retract a run (issue 14), through the API: one call withdraws everything the run signed.

The owner (or an admin) retracts; anyone else is answered like for an unknown run; a second
retraction is a clear 409. Afterwards the listings no longer show the objects, the run signs
nothing more, the audit trail still holds what it published and who retracted it, and a
rebuild of the projections gives the same listings (TestClient; SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from click.testing import CliRunner, Result

from projections.document_queries import DOCUMENTS
from tests.api_factories import signed_by_run
from tests.api_support import Api, ApiUser, BackgroundProjector, assert_error
from worker_runs.bootstrap import Container

COUNTS = {"element": 2, "transcription": 1, "classification": 1, "metadata": 1}


def _retract(api: Api, run_id: str) -> Any:
    return api.post(f"/api/v1/process/workers/{run_id}/retract/")


def _ids(result: Any) -> set[str]:
    assert result.status_code == 200, result.text
    return {item["id"] for item in result.json["results"]}


def listings(api: Api, data: dict[str, Any]) -> dict[str, Any]:
    """What the listings show of the corpus and its page."""
    page_id, corpus_id = data["page"]["id"], data["corpus"]["id"]
    element = api.get(f"/api/v1/element/{page_id}/")
    assert element.status_code == 200, element.text
    return {
        "corpus elements": _ids(api.get(f"/api/v1/corpus/{corpus_id}/elements/")),
        "children": _ids(api.get(f"/api/v1/elements/{page_id}/children/")),
        "transcriptions": _ids(api.get(f"/api/v1/element/{page_id}/transcriptions/")),
        "metadata": _ids(api.get(f"/api/v1/element/{page_id}/metadata/")),
        "classifications": {c["id"] for c in element.json["classifications"]},
        "corpus runs": _ids(api.get(f"/api/v1/corpus/{corpus_id}/worker-runs/")),
        "by run": _ids(api.get(f"/api/v1/corpus/{corpus_id}/elements/",
                               params={"worker_run": data["run"]["id"]})),
    }


def test_the_owner_retracts_a_run_and_the_listings_hide_what_it_signed(
    api: Api, alice: ApiUser, container: Container, projector: BackgroundProjector,
) -> None:
    data = signed_by_run(api)
    run_id = data["run"]["id"]
    lines = {line["id"] for line in data["lines"]}
    before = listings(api, data)
    assert lines <= before["children"] and lines <= before["corpus elements"]
    assert data["transcription"]["id"] in before["transcriptions"] and before["corpus runs"] == {run_id}

    result = _retract(api, run_id)
    assert result.status_code == 200, result.text
    assert result.json["id"] == run_id and result.json["counts"] == COUNTS
    assert result.json["retracted_by"] == alice.user_id and result.json["retracted_at"]
    assert int(result.headers["X-Event-Position"]) > 0

    after = listings(api, data)
    assert not lines & after["children"] and not lines & after["corpus elements"]
    assert after["transcriptions"] == {data["manual"]["id"]}  # the one made by hand stays
    assert after["metadata"] == set() and after["classifications"] == set()
    assert after["corpus runs"] == set() and after["by run"] == set()
    assert after["corpus elements"] == before["corpus elements"] - lines
    # Retrieving one of them: gone too, like an object that does not exist.
    assert_error(api.get(f"/api/v1/element/{data['lines'][0]['id']}/"), 404, "client_error", "not_found")

    # "Who created it?" still answers, and says it was retracted.
    provenance = api.get(f"/api/v1/provenance/{data['transcription']['id']}/").json
    assert provenance["retracted"] is True and provenance["worker_run"]["id"] == run_id
    assert api.get(f"/api/v1/provenance/{data['manual']['id']}/").json["retracted"] is False
    # The run's own record still lists what it signed.
    results = api.get(f"/api/v1/process/workers/{run_id}/results/", params={"with_count": "true"}).json
    assert results["count"] == sum(COUNTS.values())

    # The audit trail keeps what the run published, and says who retracted it.
    trail = api.get("/api/v1/audit/", params={"worker_run": run_id}).json["results"]
    types = [event["type"] for event in trail]
    assert types[-1] == "WorkerRunRetracted" and types.count("ElementCreated") == 2
    assert {"TranscriptionCreated", "ClassificationCreated", "MetaDataCreated"} <= set(types)
    assert trail[-1]["actor"] == {"type": "user", "id": alice.user_id}
    assert trail[-1]["data"]["retracted_by"] == alice.user_id

    # A retracted run signs nothing more.
    refused = api.post(f"/api/v1/element/{data['page']['id']}/transcription/",
                       {"text": "again", "confidence": 0.5, "worker_run_id": run_id})
    assert_error(refused, 400, "validation_error", "run_retracted", ["worker_run_id"])

    # Twice: a clear conflict, nothing recorded.
    again = assert_error(_retract(api, run_id), 409, "client_error", "already_retracted")
    assert "already retracted" in again["errors"][0]["detail"]


def test_another_user_is_answered_like_for_an_unknown_run(api: Api, bob: ApiUser) -> None:
    data = signed_by_run(api)
    run_id = data["run"]["id"]
    other = _retract(api.as_user(bob), run_id)
    unknown = _retract(api.as_user(bob), str(uuid.uuid4()))
    assert_error(other, 404, "client_error", "not_found")
    assert other.json == unknown.json
    assert data["lines"][0]["id"] in listings(api, data)["children"]  # nothing was retracted


def test_an_admin_retracts_any_run(api: Api, admin: ApiUser, alice: ApiUser) -> None:
    data = signed_by_run(api)
    result = _retract(api.as_user(admin), data["run"]["id"])
    assert result.status_code == 200, result.text
    assert result.json["counts"] == COUNTS and result.json["retracted_by"] == admin.user_id
    assert data["lines"][0]["id"] not in listings(api, data)["children"]
    # The owner sees who retracted their run, in their audit trail.
    trail = api.get("/api/v1/audit/", params={"worker_run": data["run"]["id"], "type": "WorkerRunRetracted"})
    assert [e["actor"]["id"] for e in trail.json["results"]] == [admin.user_id]
    assert_error(_retract(api, data["run"]["id"]), 409, "client_error", "already_retracted")


def test_a_run_with_nothing_signed_retracts_with_zero_counts(api: Api) -> None:
    worker = api.create_worker("Idle")
    run = api.create_run(api.create_version(worker["id"])["id"])
    result = _retract(api, run["id"])
    assert result.status_code == 200 and result.json["counts"] == dict.fromkeys(COUNTS, 0)


def test_a_rebuild_gives_the_same_listings(
    api: Api, container: Container, projector: BackgroundProjector,
) -> None:
    data = signed_by_run(api)
    assert _retract(api, data["run"]["id"]).status_code == 200
    before = listings(api, data)
    projector.stop()
    result = container.runner.rebuild(DOCUMENTS)
    assert result.generation == result.old_generation + 1
    assert listings(api, data) == before
    assert data["lines"][0]["id"] not in before["children"]


# --- the command line: `worker-runs runs retract RUN_ID` -----------------------------------------


def test_the_cli_states_the_counts_asks_then_retracts(
    api: Api, alice: ApiUser, bob: ApiUser, container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker_runs import cli, cli_context

    data = signed_by_run(api)
    run_id = data["run"]["id"]
    monkeypatch.setattr(cli_context, "bootstrap", lambda: container)

    def run(*args: str, answer: str | None = None) -> Result:
        return CliRunner().invoke(cli.main, ["runs", "retract", *args], input=answer)

    # Someone else's run: like an unknown one.
    assert "No such worker run" in run(run_id, "--as", "bob", "--yes").output
    assert run(run_id, "--as", "bob", "--yes").exit_code == 1
    assert "is a UUID" in run("not-a-run", "--yes").output

    # The confirmation states what the run signed; "no" changes nothing.
    declined = run(run_id, "--as", "alice", answer="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert ("signed 2 elements, 1 transcription, 1 classification and 1 metadata.\nRetract all of it?"
            in declined.output)
    assert data["lines"][0]["id"] in listings(api, data)["children"]

    done = run(run_id, "--as", "alice", answer="y\n")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == (
        f"Retracted worker run {run_id}: 2 elements, 1 transcription, 1 classification and 1 metadata "
        "hidden from the listings."
    )
    assert data["lines"][0]["id"] not in listings(api, data)["children"]
    trail = api.get("/api/v1/audit/", params={"worker_run": run_id, "type": "WorkerRunRetracted"}).json
    assert [e["actor"]["id"] for e in trail["results"]] == [alice.user_id]

    again = run(run_id, "--yes")
    assert again.exit_code == 1 and "already retracted" in again.output


def test_the_cli_without_as_acts_as_an_administrator(
    api: Api, container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker_runs import cli, cli_context

    data = signed_by_run(api)
    monkeypatch.setattr(cli_context, "bootstrap", lambda: container)
    done = CliRunner().invoke(cli.main, ["runs", "retract", data["run"]["id"], "--yes"])
    assert done.exit_code == 0, done.output
    assert "2 elements" in done.output
    trail = api.get("/api/v1/audit/", params={"worker_run": data["run"]["id"], "type": "WorkerRunRetracted"})
    assert trail.json["results"][0]["data"]["retracted_by"] == "system"


def test_children_pages_count_and_walk_only_what_is_listed(api: Api) -> None:
    """The children listing counts and pages the visible ids first (element_tree_queries.py): pages
    of one walk every child once, the count follows a retraction, a page past the end is a 404."""
    data = signed_by_run(api)
    path = f"/api/v1/elements/{data['page']['id']}/children/"

    def walk() -> tuple[int, list[str]]:
        first = api.get(path, params={"page_size": 1}).json
        ids = [item["id"] for item in first["results"]]
        for number in range(2, first["count"] + 1):
            page = api.get(path, params={"page_size": 1, "page": number}).json
            assert page["count"] == first["count"]
            ids += [item["id"] for item in page["results"]]
        past = max(first["count"], 1) + 1  # page 1 exists even empty
        assert_error(api.get(path, params={"page_size": 1, "page": past}), 404, "client_error", "not_found")
        return first["count"], ids

    count, ids = walk()
    lines = {line["id"] for line in data["lines"]}
    assert count == len(ids) == len(set(ids)) and lines <= set(ids)
    assert _retract(api, data["run"]["id"]).status_code == 200
    count_after, ids_after = walk()
    assert count_after == count - len(lines) and set(ids_after) == set(ids) - lines
