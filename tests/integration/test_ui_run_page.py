# ruff: noqa: F811 - pytest fixtures imported from tests/api_support.py, requested by parameter name
"""A run's page, "what did this run sign?", and the object search, "who created it?" (issue 14),
through Falcon's TestClient: counts per type, the objects (linked, paginated), the audit trail;
runs are personal (another user gets the answer of an unknown run, an admin sees it)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.api_factories import make_element, setup_page, signed_by_run
from tests.api_support import Api, ApiUser
from tests.integration.test_ui_session import Browser


def _counts(html: str) -> dict[str, int]:
    return {kind: int(count) for kind, count in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def test_the_run_page_says_what_the_run_signed(api: Api, alice: ApiUser) -> None:
    data = signed_by_run(api)
    run = data["run"]
    browser = Browser(api.client, alice)
    runs = browser.get("/worker-runs")
    assert f'href="/worker-runs/runs/{run["id"]}"' in runs.text  # the runs list links the page

    page = browser.get(f"/worker-runs/runs/{run['id']}")
    assert page.status_code == 200, page.text
    assert run["summary"] in page.text and "HTR" in page.text
    assert _counts(page.text) == {"element": 2, "transcription": 1, "classification": 1, "metadata": 1}
    for obj in (*data["lines"], data["transcription"], data["classification"], data["metadata"]):
        assert f'href="/worker-runs/objects?id={obj["id"]}"' in page.text
    assert data["manual"]["id"] not in page.text  # created by hand: not the run's
    assert "Dear sir" in page.text and "sender" in page.text and "letter" in page.text
    # The audit trail: the run's creation and every event it signed.
    trail = page.text.split('id="trail-title"')[1]
    assert "UserWorkerRunCreated" in trail and "TranscriptionCreated" in trail and "MetaDataCreated" in trail

    only = browser.get(f"/worker-runs/runs/{run['id']}?type=element")
    assert data["transcription"]["id"] not in only.text and data["lines"][0]["id"] in only.text


def test_the_run_page_paginates_the_signed_objects(api: Api, alice: ApiUser) -> None:
    corpus, page, run = setup_page(api)
    created = [make_element(api, corpus["id"], "page", f"Line {n}", parent=page["id"],
                            worker_run_id=run["id"]) for n in range(23)]
    browser = Browser(api.client, alice)
    first = browser.get(f"/worker-runs/runs/{run['id']}")
    assert _counts(first.text)["element"] == 23
    shown = re.findall(r'data-object-id="([0-9a-f-]+)"', first.text)
    assert shown == [e["id"] for e in created[:20]]
    after = re.search(r'href="\?after=([^"]+)">Next<', first.text)
    assert after and "Previous" not in first.text
    second = browser.get(f"/worker-runs/runs/{run['id']}?after={after.group(1)}")
    assert re.findall(r'data-object-id="([0-9a-f-]+)"', second.text) == [e["id"] for e in created[20:]]
    before = re.search(r'href="\?before=([^"]+)">Previous<', second.text)
    assert before and ">Next<" not in second.text
    back = browser.get(f"/worker-runs/runs/{run['id']}?before={before.group(1)}")
    assert re.findall(r'data-object-id="([0-9a-f-]+)"', back.text) == [e["id"] for e in created[:20]]
    # A cursor typed by hand is the first page, never an error.
    for bad in ("x~y~z", "1~element~not-a-uuid", "~~", "-5~element~" + str(uuid.uuid4())):
        result = browser.get(f"/worker-runs/runs/{run['id']}?after={bad}")
        assert result.status_code == 200, (bad, result.text)


def test_runs_are_personal_on_their_page(api: Api, alice: ApiUser, bob: ApiUser, admin: ApiUser) -> None:
    run = signed_by_run(api)["run"]
    unknown = Browser(api.client, bob).get(f"/worker-runs/runs/{uuid.uuid4()}")
    other = Browser(api.client, bob).get(f"/worker-runs/runs/{run['id']}")
    assert unknown.status_code == other.status_code == 404
    assert "does not exist or is not yours" in other.text
    assert _main(unknown.text) == _main(other.text)  # the same answer: nothing tells the run exists
    seen = Browser(api.client, admin).get(f"/worker-runs/runs/{run['id']}")
    assert seen.status_code == 200 and _counts(seen.text)["element"] == 2
    assert Browser(api.client, alice).get("/worker-runs/runs/not-a-uuid").status_code == 404


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1]


def test_the_object_search_says_who_created_an_object(api: Api, alice: ApiUser, bob: ApiUser) -> None:
    data = signed_by_run(api)
    browser = Browser(api.client, alice)
    assert 'action="/worker-runs/objects"' in browser.get("/worker-runs").text  # the header's search box
    found = browser.get(f"/worker-runs/objects?id={data['transcription']['id']}")
    assert found.status_code == 200
    assert "Transcription <code>" in found.text
    assert f'href="/worker-runs/runs/{data["run"]["id"]}"' in found.text
    manual = browser.get(f"/worker-runs/objects?id={data['manual']['id']}")
    assert "no worker run: created by a user directly" in manual.text
    assert "Created by</dt><dd>you" in manual.text
    bad = browser.get("/worker-runs/objects?id=hello")
    assert bad.status_code == 200 and "Enter an object ID" in bad.text
    missing = browser.get(f"/worker-runs/objects?id={uuid.uuid4()}")
    assert missing.status_code == 404 and "No object with this ID" in missing.text
    # Bob may not read Alice's corpus: the same answer as an unknown ID.
    hidden = Browser(api.client, bob).get(f"/worker-runs/objects?id={data['transcription']['id']}")
    assert hidden.status_code == 404 and "No object with this ID" in hidden.text


def test_retract_from_the_run_page(api: Api, alice: ApiUser, bob: ApiUser) -> None:
    data = signed_by_run(api)
    run_id = data["run"]["id"]
    browser = Browser(api.client, alice)
    page = browser.get(f"/worker-runs/runs/{run_id}")
    assert "Retract this run" in page.text
    # The confirmation states the counts before anything happens.
    assert ("It signed <strong>2 elements, 1 transcription, 1 classification and 1 metadata</strong>"
            in page.text)

    path = f"/worker-runs/runs/{run_id}/retract"
    assert browser.post_form(path, "", csrf=False).status_code == 403  # another site cannot make it happen
    other = Browser(api.client, bob)
    refused = other.post_form(path, "")
    assert refused.status_code == 404 and "does not exist or is not yours" in refused.text
    assert data["lines"][0]["id"] in _children(api, data)

    done = browser.post_form(path, "")
    assert done.status_code == 303 and done.headers["Location"] == f"/worker-runs/runs/{run_id}?retracted=1"
    after = browser.get(done.headers["Location"])
    assert "Run retracted." in after.text and "no longer appear in the listings" in after.text
    assert 'id="retracted-banner"' in after.text and "Retract this run" not in after.text
    assert "WorkerRunRetracted" in after.text  # in its audit trail
    assert data["lines"][0]["id"] not in _children(api, data)
    runs = browser.get("/worker-runs").text  # the runs list marks it
    assert re.search(rf'{run_id}</code></a> <span class="badge retracted">retracted</span>', runs)

    again = browser.post_form(path, "")
    assert again.headers["Location"] == f"/worker-runs/runs/{run_id}?refused=already"
    assert "already retracted" in browser.get(again.headers["Location"]).text


def _children(api: Api, data: dict[str, Any]) -> set[str]:
    listing = api.get(f"/api/v1/elements/{data['page']['id']}/children/")
    return {item["id"] for item in listing.json["results"]}
