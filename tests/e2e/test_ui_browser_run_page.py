# ruff: noqa: F811 - module fixtures imported from tests/ui_fixtures.py, requested by parameter name
"""A run's page and its retraction (issue 14), in Debian's headless Chromium against
`worker-runs serve`: from the runs list to "what did this run sign?", an object's "who created
it?" from the header's search box, then "Retract this run": the confirmation states the
counts, Cancel changes nothing, "Retract everything" hides the objects from the listings.
Asserts what a person sees; fails on any console error; axe-core checks each state.

Screenshots: test-artifacts/ui/run-page/ (the last step: NN-retracted.png).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.ui_fixtures import browser, home, new_context, service, shots, users  # noqa: F401
from tests.ui_support import CliUser, Service, Shots, Watch, expect_accessible, sign_in, unique

pytestmark = pytest.mark.slow

#: screenshots: test-artifacts/ui/run-page/
SHOTS = "run-page"


def _seed(service: Service, user: CliUser) -> dict[str, Any]:
    """A run that signed 2 lines, a transcription and a metadata on a page."""
    run, corpus = service.run_and_corpus(user, unique("Line finder"))
    page = service.create(user, "/api/v1/elements/create/",
                  {"corpus": corpus["id"], "type": "page", "name": "Folio 1"})
    lines = [service.create(user, "/api/v1/elements/create/", {
        "corpus": corpus["id"], "type": "page", "name": f"Line {n}", "parent": page["id"],
        "worker_run_id": run["id"],
    }) for n in (1, 2)]
    transcription = service.create(user, f"/api/v1/element/{page['id']}/transcription/",
                           {"text": "Dear sir", "confidence": 0.9, "worker_run_id": run["id"]})
    service.create(user, f"/api/v1/element/{page['id']}/metadata/",
           {"type": "text", "name": "sender", "value": "Jean", "worker_run_id": run["id"]})
    return {"run": run, "page": page, "lines": lines, "transcription": transcription}


def _children(service: Service, user: CliUser, page_id: str) -> set[str]:
    status, body = service.api(user, "GET", f"/api/v1/elements/{page_id}/children/")
    assert status == 200, body
    return {item["id"] for item in body["results"]}


def test_a_run_page_then_retract_it(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["alice"]
    data = _seed(service, user)
    run_id = data["run"]["id"]
    watch = Watch()
    context = new_context(browser)
    try:
        page = watch.page(context.new_page())
        sign_in(page, service, user)

        # From the runs list to the run's page.
        page.get_by_role("link", name=f"Open the run {run_id}: what it signed").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(data["run"]["summary"])
        signed = page.get_by_role("region", name="What this run signed")
        expect(signed.locator("#signed-counts")).to_contain_text("2 elements")
        expect(signed.locator("#signed-counts")).to_contain_text("1 transcription")
        expect(signed.locator("#signed-counts")).to_contain_text("0 classifications")
        expect(signed.get_by_text("Dear sir")).to_be_visible()
        trail = page.get_by_role("region", name="Audit trail")
        expect(trail.get_by_text("UserWorkerRunCreated")).to_be_visible()
        expect_accessible(page, "run page")
        shots(page, "run-page", full_page=True)

        # An object's link: who created it.
        signed.get_by_role("link", name=data["transcription"]["id"]).click()
        found = page.locator("#provenance")
        expect(found.get_by_role("heading", level=2)).to_contain_text("Transcription")
        expect(found.locator("dt:text-is('Created by') + dd")).to_have_text("you")
        expect(found.get_by_role("link", name=data["run"]["summary"])).to_be_visible()
        expect_accessible(page, "object page")

        # The header's search box takes any object ID.
        search = page.get_by_role("search", name="Find who created an object")
        search.get_by_label("Object ID").fill(data["lines"][0]["id"])
        search.get_by_label("Object ID").press("Enter")
        expect(page.locator("#provenance").get_by_role("heading", level=2)).to_contain_text("Element")
        shots(page, "who-created-it")
        page.locator("#provenance").get_by_role("link", name=data["run"]["summary"]).click()

        # Retract: the dialog states the counts; Cancel changes nothing.
        page.get_by_role("button", name="Retract this run").click()
        dialog = page.get_by_role("dialog", name="Retract this run?")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(
            "It signed 2 elements, 1 transcription, 0 classifications and 1 metadata. "
            "All of it will disappear from the listings"
        )
        expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        expect_accessible(page, "retract confirmation")
        shots(page, "retract-confirmation")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        assert {line["id"] for line in data["lines"]} <= _children(service, user, data["page"]["id"])

        page.get_by_role("button", name="Retract this run").click()
        dialog.get_by_role("button", name="Retract everything").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Run retracted. 2 elements, 1 transcription, 0 classifications and 1 metadata no longer appear "
            "in the listings"
        )
        expect(page.locator("#retracted-banner")).to_contain_text(
            re.compile(r"Retracted\s+on \d{4}-\d\d-\d\d \d\d:\d\d UTC\s+by you:")
        )
        expect(page.get_by_role("button", name="Retract this run")).to_have_count(0)
        expect(trail.get_by_text("WorkerRunRetracted")).to_be_visible()
        expect_accessible(page, "retracted")
        shots(page, "retracted", full_page=True)
        assert not {line["id"] for line in data["lines"]} & _children(service, user, data["page"]["id"])

        # On a phone: the same page reads and passes the checks.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.locator("#retracted-banner")).to_be_visible()
        expect_accessible(page, "phone retracted run page")
        shots(page, "phone-retracted")
        watch.expect_clean()
    finally:
        context.close()


def test_another_users_run_page_is_not_found(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    run = _seed(service, users["bob"])["run"]
    watch = Watch()
    context = new_context(browser)
    try:
        page = watch.page(context.new_page())
        sign_in(page, service, users["carol"])
        response = page.goto(f"{service.url}/worker-runs/runs/{run['id']}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Worker run not found")
        expect(page.get_by_text("This worker run does not exist or is not yours.")).to_be_visible()
        shots(page, "not-yours")
        # The browser logs the 404 of the page itself; nothing else.
        watch.expect_clean("404")
    finally:
        context.close()
