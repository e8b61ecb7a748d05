# ruff: noqa: F811 - module fixtures imported from tests/ui_fixtures.py, requested by parameter name
"""Beyond Arkindex: "Quick run" in the modal (issue 14). A person types a worker's name and
gets a run ID in one press: the worker (new, local), its version and the run are created
together; the ID shows with Copy, the worker's panel shows the version with that run, the runs
list behind has it. Asked again, the same run. In Debian's headless Chromium against
`worker-runs serve`; fails on any browser console error; states checked with axe-core.

Screenshots: test-artifacts/ui/quick-run/ (the last step: NN-quick-run-phone.png).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.ui_fixtures import browser, home, service, shots, users  # noqa: F401
from tests.ui_support import (
    PHONE,
    CliUser,
    Service,
    Shots,
    Watch,
    expect_accessible,
    open_modal,
    shown_run_id,
    signed_in,
    unique,
)

pytestmark = pytest.mark.slow

#: screenshots: test-artifacts/ui/quick-run/
SHOTS = "quick-run"


def _open_quick_run(page: Page) -> tuple[Locator, Locator]:
    modal = open_modal(page)
    modal.get_by_role("button", name="Quick run", exact=True).click()
    form = modal.locator("#quick-run-form")
    expect(form.get_by_role("heading", name="Quick run")).to_be_visible()
    expect(form.get_by_label("Worker name")).to_be_focused()
    return modal, form


def test_quick_run_creates_worker_version_and_run_then_answers_the_same_run(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["alice"]
    name = unique("Quick OCR")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:

        def seen(state: str, target: Page | None = None) -> None:
            shots(target or page, state)
            expect_accessible(target or page, state)

        modal, form = _open_quick_run(page)
        seen("quick-run-form")

        # Nothing typed: a clear error on the name, nothing sent to the server's command.
        form.get_by_role("button", name="Get my run").click()
        form = modal.locator("#quick-run-form")
        expect(form.locator("#e-name")).to_have_text("Enter a worker's name: yours, or a new one.")
        expect(form.get_by_label("Worker name")).to_be_focused()
        seen("quick-run-name-missing")

        # A name and a new type, then Enter: worker, version and run in one press.
        form.get_by_label("Worker name").fill(name)
        form.get_by_label("Type").fill("recognizer")
        form.get_by_label("Worker name").press("Enter")
        run_id = shown_run_id(modal, "#quick-run-id")
        notice = modal.locator("#run-notice")
        expect(notice).to_contain_text("Worker run created.")
        expect(notice).to_contain_text(f"Created the local worker “{name}” (recognizer), its version 1")
        copy = notice.get_by_role("button", name="Copy the run's ID")
        expect(copy).to_be_focused()  # the ID is what the person came for
        # The panel shows the worker; its version shows the run instead of "+".
        detail = modal.locator("#worker-detail")
        expect(detail.get_by_role("heading", level=3)).to_have_text(name)
        expect(detail.locator(".version")).to_have_count(1)
        expect(detail.locator(".version .run-id")).to_have_text(run_id)
        expect(modal.locator("#workers [aria-current='true']")).to_contain_text(name)
        seen("quick-run-created")
        copy.click()
        expect(copy).to_have_text("Copied")

        # The runs list behind the modal already has it.
        page.keyboard.press("Escape")
        row = page.locator(f"#runs tr[data-run-id='{run_id}']")
        expect(row).to_be_visible()
        expect(row).to_contain_text(name)
        # The server agrees: the run is of the worker's version 1.
        run = service.get(user, f"/api/v1/process/workers/{run_id}/")
        assert (run["worker_version"]["worker"]["name"], run["worker_version"]["version"]) == (name, 1)

        # Again, with the same name: the same run, nothing new.
        modal, form = _open_quick_run(page)
        form.get_by_label("Worker name").fill(name)
        form.get_by_role("button", name="Get my run").click()
        expect(notice).to_contain_text("You already have a run of this version.")
        assert shown_run_id(modal, "#quick-run-id") == run_id
        expect(notice).to_contain_text("already existed, with your run")
        expect(page.locator("#runs tbody tr")).to_have_count(1)
        seen("quick-run-same-run-again")

        # Cancel puts the focus back on "Quick run".
        modal.get_by_role("button", name="Quick run", exact=True).click()
        modal.locator("#quick-run-form").get_by_role("button", name="Cancel").click()
        expect(modal.get_by_role("button", name="Quick run", exact=True)).to_be_focused()

        # Last step: the same flow at a phone's width, from another quick run.
        with signed_in(browser, service, user, watch, **PHONE) as small:
            small_modal, small_form = _open_quick_run(small)
            small_form.get_by_label("Worker name").fill(name)
            small_form.get_by_label("Docker image tag").fill("registry.example.org/quick-ocr:2")
            small_form.get_by_role("button", name="Get my run").click()
            phone_run = shown_run_id(small_modal, "#quick-run-id")
            assert phone_run != run_id  # a new image: a new version, so a new run
            expected = f"Created version 2 of your worker “{name}”"
            expect(small_modal.locator("#run-notice")).to_contain_text(expected)
            seen("quick-run-phone", small)
        watch.expect_clean()
    print(f"\nScreenshots in {shots.folder}: " + ", ".join(p.name for p in shots.taken))


def test_quick_run_with_another_users_worker_name_says_what_to_do(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    owner, other = users["bob"], users["carol"]
    name = unique("Private OCR")
    service.worker(owner, name, "recognizer")
    watch = Watch()
    with signed_in(browser, service, other, watch) as page:
        modal, form = _open_quick_run(page)
        form.get_by_label("Worker name").fill(name)
        form.get_by_role("button", name="Get my run").click()
        error = modal.locator("#quick-run-form #e-name")
        expect(error).to_contain_text("Another user's worker already has this name's slug")
        expect(modal.locator("#quick-run-form").get_by_label("Worker name")).to_have_value(name)
        expect(page.locator("#runs .empty")).to_be_visible()  # nothing was created
        shots(page, "quick-run-name-taken")
        expect_accessible(page, "quick-run-name-taken")
        watch.expect_clean()


def test_quick_run_cannot_be_sent_twice_while_in_flight(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["dave"]
    name = unique("Patient OCR")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        held: list[Route] = []

        def hold_posts(route: Route) -> None:
            if route.request.method == "POST":
                held.append(route)
            else:
                route.continue_()

        page.route("**/ui/quick-run", hold_posts)
        modal, form = _open_quick_run(page)
        form.get_by_label("Worker name").fill(name)
        submit = form.get_by_role("button", name="Get my run")
        submit.click()
        expect(submit).to_be_disabled()  # while the request is in flight
        form.get_by_label("Worker name").press("Enter")  # a second try: nothing is sent
        page.wait_for_timeout(300)
        assert len(held) == 1
        held[0].continue_()
        run_id = shown_run_id(modal, "#quick-run-id")
        runs = service.get(user, "/api/v1/process/workers/")
        assert [run["id"] for run in runs["results"]] == [run_id], runs
        shots(page, "quick-run-sent-once")
        watch.expect_clean()
