# ruff: noqa: F811 - module fixtures imported from tests/ui_fixtures.py, requested by parameter name
"""The audit trail page (issue 14), in Debian's headless Chromium against `worker-runs serve`:
an administrator opens it from the account menu, filters by a worker run (htmx swaps the
results and the address), is told plainly when a filter cannot be used, and downloads the
matching events as CSV (the API's export). Asserts what a person sees; fails on any console
error; axe-core checks each state.

Screenshots: test-artifacts/ui/audit-page/ (the last step: NN-csv-downloaded.png).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.ui_fixtures import browser, home, new_context, service, shots  # noqa: F401
from tests.ui_support import CliUser, Service, Shots, Watch, create_user, expect_accessible, sign_in

pytestmark = pytest.mark.slow

#: screenshots: test-artifacts/ui/audit-page/
SHOTS = "audit-page"


@pytest.fixture(scope="module")
def users(home: Path) -> dict[str, CliUser]:
    """Only the two users this module needs (the service fixture takes them from here)."""
    return {"root": create_user(home, "root", admin=True), "alice": create_user(home, "alice")}


def _seed(service: Service, user: CliUser) -> dict[str, Any]:
    """Alice's run, which signed one element, and an element of hers created by hand."""
    run, corpus = service.run_and_corpus(user, "Line finder")
    signed = service.create(user, "/api/v1/elements/create/",
                    {"corpus": corpus["id"], "type": "page", "name": "Folio 1", "worker_run_id": run["id"]})
    by_hand = service.create(user, "/api/v1/elements/create/", {"corpus": corpus["id"], "type": "page",
                                                                  "name": "Folio 2"})
    return {"run": run, "signed": signed, "by_hand": by_hand}


def test_an_administrator_filters_the_trail_by_run_and_downloads_it(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    data = _seed(service, users["alice"])
    run_id = data["run"]["id"]
    watch = Watch()
    context = new_context(browser, accept_downloads=True)
    try:
        page = watch.page(context.new_page())
        sign_in(page, service, users["root"])

        # From the account menu.
        page.locator(".user-menu summary").click()
        page.get_by_role("link", name="Audit trail").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
        table = page.locator("#audit-results table")
        expect(table).to_contain_text("UserWorkerRunCreated")
        expect(table).to_contain_text(data["by_hand"]["id"])
        expect_accessible(page, "audit trail")
        shots(page, "audit-trail", full_page=True)

        # A filter the page cannot take: said next to the field, nothing listed.
        page.get_by_label("Worker run").fill("not a run")
        page.get_by_role("button", name="Apply filters").click()
        expect(page.get_by_text("Enter a worker run ID")).to_be_visible()
        expect(page.get_by_label("Worker run")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_text("Correct the filters to see the events.")).to_be_visible()
        expect_accessible(page, "invalid filter")
        shots(page, "invalid-filter")

        # By run: only what it signed and its creation, each linked to the run's page.
        page.get_by_label("Worker run").fill(run_id)
        page.get_by_label("Worker run").press("Enter")
        expect(page).to_have_url(f"{service.url}/worker-runs/audit?worker_run={run_id}")
        expect(table.locator("tbody tr")).to_have_count(2)
        expect(table).to_contain_text("UserWorkerRunCreated")
        expect(table).to_contain_text(data["signed"]["id"])
        expect(table).not_to_contain_text(data["by_hand"]["id"])
        expect(table.get_by_role("link", name=run_id)).to_have_count(2)
        expect(table.get_by_role("cell", name="alice", exact=True)).to_have_count(2)
        expect(page.get_by_label("Worker run")).to_be_focused()  # the swap keeps the person's place
        expect_accessible(page, "filtered by run")
        shots(page, "filtered-by-run")

        # On a phone: the same page reads and passes the checks.
        page.set_viewport_size({"width": 390, "height": 844})
        expect(table.get_by_role("link", name=run_id).first).to_be_visible()
        expect_accessible(page, "phone filtered by run")
        shots(page, "phone-filtered-by-run", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})

        # The CSV: the same events, every column of the API's export.
        with page.expect_download() as info:
            page.get_by_role("link", name="Download CSV").click()
        download = info.value
        assert download.suggested_filename == "audit.csv"
        rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
        assert [row["type"] for row in rows] == ["UserWorkerRunCreated", "ElementCreated"]
        assert {row["worker_run_id"] for row in rows[1:]} == {run_id}
        assert data["signed"]["id"] in rows[1]["data"]
        expect(table.locator("tbody tr")).to_have_count(2)  # the page stays as it was
        shots(page, "csv-downloaded", full_page=True)
        watch.expect_clean()
    finally:
        context.close()
