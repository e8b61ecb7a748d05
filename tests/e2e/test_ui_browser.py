# ruff: noqa: F811 - module fixtures imported from tests/ui_fixtures.py, requested by parameter name
"""The seed's flow in a real browser: Debian's headless Chromium, driven by Playwright,
against `worker-runs serve` (embedded SQLite + broker, relay, Celery worker).

A user signs in, opens "Create a worker run", filters the workers by type, searches them by
name, creates a local worker with a new type, a version with only a Docker image tag,
presses the green "+", reads the run's ID and sees the run in the list without reloading;
back in the modal the version shows the run's ID instead of "+". A second tab of the
same user sees the run appear live (SSE). Another user sees none of it.

Screenshots of every step: test-artifacts/ui/ (printed at the end of each test).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.ui_fixtures import browser, home, new_context, service, shots, users  # noqa: F401
from tests.ui_support import UUID_RE, CliUser, Service, Shots, Watch, expect_accessible, sign_in

pytestmark = pytest.mark.slow

#: screenshots: test-artifacts/ui/seed-flow/
SHOTS = "seed-flow"

#: how long a live update may take to reach another tab (it is ~0.1-0.5 s on an idle machine)
LIVE_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def seed(service: Service, users: dict[str, CliUser]) -> dict[str, Any]:
    """Workers of several types for alice; a private worker and a run for bob."""
    alice, bob = users["alice"], users["bob"]
    tesseract = service.worker(alice, "Tesseract OCR", "recognizer", slug="tesseract-ocr")
    service.version(alice, tesseract["id"], docker_image_iid="registry.example.org/tesseract:5")
    layout = service.worker(alice, "Layout detector", "layout-analyser", slug="layout-detector")
    service.version(alice, layout["id"])
    secret = service.worker(bob, "Bob secret worker", "recognizer", slug="bob-secret")
    bob_version = service.version(bob, secret["id"])
    bob_run = service.run(bob, bob_version["id"])
    return {"tesseract": tesseract, "layout": layout, "bob_worker": secret, "bob_run": bob_run}


def _context(browser: Browser, **kwargs: Any) -> BrowserContext:
    return new_context(browser, viewport=kwargs.pop("viewport", {"width": 1280, "height": 860}), **kwargs)


def _report(shots: Shots) -> None:
    print(f"\nScreenshots in {shots.folder}:")
    for path in shots.taken:
        print(f"  {path.name}")


def test_the_seed_flow_in_a_browser(
    browser: Browser, service: Service, users: dict[str, CliUser], seed: dict[str, Any], shots: Shots,
) -> None:
    alice = users["alice"]
    context = _context(browser)
    other_tab_context = _context(browser)
    try:
        watch = Watch()
        page = watch.page(context.new_page())

        def seen(target: Page, name: str, *, full_page: bool = False) -> None:
            """A state a person sees: screenshot it and check it with axe-core."""
            shots(target, name, full_page=full_page)
            expect_accessible(target, name)

        # --- sign in
        page.goto(f"{service.url}/")
        expect(page).to_have_url(f"{service.url}/sign-in")
        seen(page, "sign-in")
        page.get_by_label("API token").fill("not-a-token")
        page.get_by_label("API token").press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("unknown or has been revoked")
        seen(page, "sign-in-unknown-token")
        sign_in(page, service, alice)
        expect(page.get_by_role("heading", name="Worker runs", exact=True)).to_be_visible()
        expect(page.locator("#runs .empty")).to_be_visible()
        expect(page.get_by_text("ARKINDEX_WORKER_RUN_ID").first).to_be_visible()
        seen(page, "worker-runs-page-empty", full_page=True)

        # A second tab of the same user, open before anything is created: it must update live.
        other = watch.page(other_tab_context.new_page())
        sign_in(other, service, alice)
        expect(other.locator("#runs .empty")).to_be_visible()

        # --- open the modal with the keyboard; Escape closes it, Enter opens it again
        opener = page.get_by_role("button", name="Create a worker run")
        opener.focus()
        page.keyboard.press("Enter")
        modal = page.get_by_role("dialog", name="Create a worker run")
        expect(modal).to_be_visible()
        expect(page.locator("#worker-search")).to_be_focused()
        page.keyboard.press("Escape")
        expect(modal).to_be_hidden()
        expect(opener).to_be_focused()
        page.keyboard.press("Enter")
        expect(modal).to_be_visible()
        workers = modal.locator("#workers .worker-item")
        expect(workers).to_have_count(2)  # alice's two workers; never bob's private one
        expect(modal.get_by_text("Bob secret worker")).to_have_count(0)
        seen(page, "modal-open")

        # --- filter by worker type
        modal.get_by_label("Type").select_option("layout-analyser")
        expect(workers).to_have_count(1)
        expect(workers.first).to_contain_text("Layout detector")
        seen(page, "modal-filter-by-type")
        modal.get_by_label("Type").select_option("")
        expect(workers).to_have_count(2)

        # --- search by name, as you type (debounced)
        modal.get_by_label("Search by name").press_sequentially("tess", delay=40)
        expect(workers).to_have_count(1)
        expect(workers.first).to_contain_text("Tesseract OCR")
        seen(page, "modal-search-by-name")
        modal.get_by_label("Search by name").fill("secret")  # bob's worker: not available to alice
        expect(modal.locator("#workers .empty")).to_be_visible()
        seen(page, "modal-search-no-match")
        modal.get_by_label("Search by name").fill("")
        expect(workers).to_have_count(2)

        # --- create a local worker with a new type (the datalist suggests existing types)
        modal.locator("#create-worker").click()
        form = modal.locator("#worker-form")
        expect(form.get_by_label("Name")).to_be_focused()
        form.get_by_role("button", name="Create", exact=True).click()  # nothing typed: clear errors
        form = modal.locator("#worker-form")
        expect(form.locator("#e-name")).to_be_visible()
        seen(page, "create-local-worker-errors")
        suggestions = form.locator("#worker-type-suggestions option")
        expect(suggestions).to_have_count(2)
        form.get_by_label("Name").fill("My local scripts")
        form.get_by_label("Type").fill("scripting")
        form.get_by_label("Description").fill("Bulk imports from my laptop.")
        seen(page, "create-local-worker-form")
        form.get_by_label("Description").press("Tab")  # -> Cancel
        page.keyboard.press("Tab")  # -> Create
        expect(form.get_by_role("button", name="Create")).to_be_focused()
        page.keyboard.press("Enter")
        detail = modal.locator("#worker-detail")
        expect(detail.locator("#worker-title")).to_have_text("My local scripts")
        expect(detail.get_by_text("Worker created")).to_be_visible()
        # The new worker and its new type appear at once: no refresh needed.
        expect(workers).to_have_count(3)
        expect(modal.locator("#worker-type option[value='scripting']")).to_have_count(1)
        expect(modal.locator(".worker-item.selected")).to_contain_text("My local scripts")
        seen(page, "local-worker-created")

        # --- create a version: invalid JSON first (clear error), then only a Docker image tag
        detail.locator("#create-version").click()
        version_form = detail.locator("#version-form")
        expect(version_form.get_by_label("Docker image tag")).to_be_focused()
        version_form.get_by_label("Configuration (JSON)").fill('{"threshold": 0.5,')
        version_form.get_by_role("button", name="Create").click()
        error = detail.locator("#e-configuration")
        expect(error).to_contain_text("not valid JSON")
        seen(page, "version-form-invalid-json")
        version_form = detail.locator("#version-form")
        version_form.get_by_label("Configuration (JSON)").fill("")
        version_form.get_by_label("Docker image tag").fill("registry.example.org/my-scripts:0.1")
        seen(page, "version-form-docker-tag-only")
        version_form.get_by_label("Docker image tag").press("Enter")
        versions = detail.locator(".version")
        expect(versions).to_have_count(1)
        expect(versions.first).to_contain_text("Version 1")
        expect(versions.first).to_contain_text("registry.example.org/my-scripts:0.1")
        plus = versions.first.get_by_role("button", name="Create a user worker run from version 1")
        expect(plus).to_be_focused()  # ready for Enter
        seen(page, "version-created")

        # --- the green "+": the run's ID shows at the top of the modal
        started = time.perf_counter()
        plus.click()
        new_id = modal.locator("#new-run-id")
        expect(new_id).to_be_visible()
        elapsed_ms = (time.perf_counter() - started) * 1000
        run_id = new_id.inner_text().strip()
        assert UUID_RE.match(run_id), run_id
        print(f"\nTime from '+' to the run ID on screen: {elapsed_ms:.0f} ms")
        expect(modal.locator(".notice.success")).to_contain_text("Worker run created")
        seen(page, "run-created-notification")

        # --- the other tab of the same user: the run appears live (SSE), without a reload
        other_row = other.locator(f"#runs tr[data-run-id='{run_id}']")
        expect(other_row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        live_ms = (time.perf_counter() - started) * 1000
        print(f"Time from '+' to the run in the user's other tab (live): {live_ms:.0f} ms")
        expect(other.locator("body")).to_have_attribute("data-live", "on")
        seen(other, "second-tab-live-update", full_page=True)

        # The runs list behind the modal already has it: no reload.
        row = page.locator(f"#runs tr[data-run-id='{run_id}']")
        expect(row).to_have_count(1)
        page.keyboard.press("Escape")
        expect(modal).to_be_hidden()
        expect(row).to_be_visible()
        expect(row).to_contain_text("My local scripts")
        expect(row).to_contain_text("scripting")
        seen(page, "runs-list-with-new-run", full_page=True)

        # --- back in the modal: the version shows its run's ID (with Copy) instead of "+"
        opener.click()
        expect(modal).to_be_visible()
        expect(plus).to_have_count(0)
        expect(versions.first.locator(".run-id")).to_have_text(run_id)
        copy = versions.first.get_by_role("button", name="Copy the ID of your run of version 1")
        expect(copy).to_be_visible()
        seen(page, "version-shows-its-run")

        # --- the worker runs page at a phone's width
        phone = _context(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        try:
            small = watch.page(phone.new_page())
            sign_in(small, service, alice)
            expect(small.locator(f"#runs tr[data-run-id='{run_id}']")).to_be_visible()
            seen(small, "phone-runs-page", full_page=True)
            small.get_by_role("button", name="Create a worker run").click()
            expect(small.get_by_role("dialog", name="Create a worker run")).to_be_visible()
            seen(small, "phone-modal")
        finally:
            phone.close()

        watch.expect_clean()
    finally:
        context.close()
        other_tab_context.close()
        _report(shots)


def test_another_user_never_sees_the_first_users_runs_or_workers(
    browser: Browser, service: Service, users: dict[str, CliUser], seed: dict[str, Any], shots: Shots,
) -> None:
    alice, bob = users["alice"], users["bob"]
    # Alice's run, made through the API (the browser test above may or may not have run).
    status, alice_runs = service.api(alice, "GET", "/api/v1/process/workers/")
    assert status == 200
    alice_version = service.version(alice, seed["layout"]["id"], tag=f"isolation-{time.time_ns()}")
    alice_run = service.run(alice, alice_version["id"])
    alice_ids = {run["id"] for run in alice_runs["results"]} | {alice_run["id"]}
    alice_worker_ids = [seed["tesseract"]["id"], seed["layout"]["id"]]

    context = _context(browser)
    try:
        page = context.new_page()
        sign_in(page, service, bob)
        # Bob's page: his run only.
        rows = page.locator("#runs tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-run-id", seed["bob_run"]["id"])
        html = page.content()
        for run_id in alice_ids:
            assert run_id not in html
        page.get_by_role("button", name="Create a worker run").click()
        modal = page.get_by_role("dialog", name="Create a worker run")
        expect(modal.locator("#workers .worker-item")).to_have_count(1)
        expect(modal.locator("#workers")).to_contain_text("Bob secret worker")
        shots(page, "other-user-modal")

        # Every fragment, asked for directly with bob's session.
        fragments = [
            "/ui/runs", "/ui/runs?page=2", "/ui/workers", "/ui/workers?filter_name=tess",
            "/ui/workers?filter_type=layout-analyser", "/worker-runs",
            *(f"/ui/workers/{worker_id}" for worker_id in alice_worker_ids),
        ]
        for path in fragments:
            response = page.request.get(f"{service.url}{path}", headers={"HX-Request": "true"})
            body = response.text()
            assert response.status in (200, 404), (path, response.status)
            secrets = (*alice_ids, *alice_worker_ids, "Tesseract OCR", "Layout detector", "My local scripts")
            for secret in secrets:
                assert secret not in body, (path, secret)
        for worker_id in alice_worker_ids:
            response = page.request.get(f"{service.url}/ui/workers/{worker_id}")
            assert response.status == 404
        # Creating a run from alice's version through the UI: refused, nothing revealed.
        csrf = page.locator("body").get_attribute("hx-headers")
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', csrf or "")
        assert token
        response = page.request.post(
            f"{service.url}/ui/runs", form={"worker_version_id": alice_version["id"]},
            headers={"X-CSRF-Token": token.group(1), "HX-Request": "true"},
        )
        assert response.status == 200
        assert "notice error" in response.text()
        assert alice_run["id"] not in response.text()
    finally:
        context.close()
        _report(shots)
