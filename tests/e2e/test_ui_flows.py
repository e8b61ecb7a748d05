# ruff: noqa: F811 - module fixtures imported from tests/ui_fixtures.py, requested by parameter name
"""The "Create a worker run" modal in every order a person uses it (issue 14), in Debian's
headless Chromium against `worker-runs serve`.

Picking a worker, creating a local worker, creating a version and pressing "+" work in any
order, any number of times: the panel always shows the worker that is highlighted, the run
made with "+" is the run of the version on screen, a form cannot be sent twice, and a write
whose answer cannot be shown says so and offers a reload. Every test asserts what a person
sees (headings, text, focus, the ID in the list), fails on any browser console error, and
checks the states it goes through with axe-core (no serious or critical violation).

Screenshots of the last step of each flow: test-artifacts/ui/flows/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.ui_fixtures import browser, home, service, shots, users  # noqa: F401
from tests.ui_support import (
    PHONE,
    CliUser,
    Service,
    Shots,
    Watch,
    create_button,
    create_version,
    create_worker,
    expect_accessible,
    expect_panel_shows,
    open_modal,
    pick_worker,
    shown_run_id,
    signed_in,
    unique,
    worker_button,
)

pytestmark = pytest.mark.slow

#: screenshots: test-artifacts/ui/flows/
SHOTS = "flows"

LIVE_TIMEOUT_MS = 15_000


def _plus(modal: Locator) -> Locator:
    """The green "+" of the panel's newest version."""
    newest = modal.locator("#worker-detail .version").first
    return newest.get_by_role("button", name=re.compile("^Create a user"))


def _press(plus: Locator, modal: Locator) -> str:
    """Press a "+" and read the new run's ID from the notification (a new one, not the last)."""
    new_id = modal.locator("#new-run-id")
    before = new_id.inner_text() if new_id.count() else None
    plus.click()
    if before is not None:
        expect(new_id).not_to_have_text(before)
    return shown_run_id(modal)


def test_pick_a_then_b_create_a_version_on_b_then_plus_gives_bs_run(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["carol"]
    a_name, a = service.unique_worker(user, "Worker A")
    service.version(user, a["id"], docker_image_iid="a:1")
    b_name, _ = service.unique_worker(user, "Worker B", "layout-analyser")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        modal = open_modal(page)
        expect_accessible(page, "modal open")

        pick_worker(modal, a_name)
        expect(modal.locator("#worker-detail .version")).to_have_count(1)
        pick_worker(modal, b_name)
        expect(modal.locator("#worker-detail").get_by_text("No version yet")).to_be_visible()
        expect_accessible(page, "worker selected")

        # Quick clicks, without waiting for the panel: the last one wins, list and panel agree.
        for _ in range(3):
            worker_button(modal, a_name).click()
            worker_button(modal, b_name).click()
        expect_panel_shows(modal, b_name)

        create_version(modal, "registry.example.org/b:1")
        expect_accessible(page, "version created")
        versions = modal.locator("#worker-detail .version")
        expect(versions).to_have_count(1)
        expect(versions.first).to_contain_text("registry.example.org/b:1")
        versions.first.get_by_role("button", name="Create a user worker run from version 1").click()
        run_id = shown_run_id(modal)
        expect(modal.locator(".notice.success")).to_contain_text("Worker run created")
        expect_accessible(page, "run created")
        # The run is B's: on screen (the runs list behind the modal) and on the server.
        page.keyboard.press("Escape")
        row = page.locator(f"#runs tr[data-run-id='{run_id}']")
        expect(row).to_contain_text(b_name)
        expect(row).to_contain_text("layout-analyser")
        assert service.run_worker_name(user, run_id) == b_name
        shots(page, "pick-a-pick-b-version-plus", full_page=True)

        # The left "Create" still answers after all this, and B's panel comes back after it.
        modal = open_modal(page)
        modal.locator("#create-worker").click()
        expect(modal.locator("#worker-form").get_by_label("Name")).to_be_focused()
        expect(modal.locator("#workers [aria-current='true']")).to_have_count(0)
        pick_worker(modal, b_name)
        watch.expect_clean()


def test_create_a_worker_then_pick_an_older_one(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["dave"]
    older, worker = service.unique_worker(user, "Older worker")
    service.version(user, worker["id"])
    newer = unique("Newer worker")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        modal = open_modal(page)
        modal.locator("#create-worker").click()
        form = modal.locator("#worker-form")
        expect_accessible(page, "create worker form")
        form.get_by_label("Name").fill(newer)
        form.get_by_label("Type").fill("scripting")
        create_button(form).click()
        expect_panel_shows(modal, newer)
        expect(modal.get_by_text("Worker created")).to_be_visible()
        expect(modal.locator("#workers .worker-item")).to_have_count(2)

        pick_worker(modal, older)
        expect(modal.locator("#worker-detail .version")).to_have_count(1)
        # "+" on the older worker's version: the run is the older worker's.
        _plus(modal).click()
        run_id = shown_run_id(modal)
        assert service.run_worker_name(user, run_id) == older

        # Back to the new worker: its panel, with its (empty) versions; create one there.
        pick_worker(modal, newer)
        create_version(modal, "")
        second = _press(_plus(modal), modal)
        assert second != run_id
        assert service.run_worker_name(user, second) == newer
        page.keyboard.press("Escape")
        expect(page.locator("#runs tbody tr")).to_have_count(2)
        expect(page.locator(f"#runs tr[data-run-id='{second}']")).to_contain_text(newer)
        expect(page.locator(f"#runs tr[data-run-id='{run_id}']")).to_contain_text(older)
        shots(page, "create-worker-then-pick-older", full_page=True)
        watch.expect_clean()


def _tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Tab (forwards) until `target` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never got the focus with Tab")


def test_keyboard_only(browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots) -> None:
    user = users["erin"]
    a_name, a = service.unique_worker(user, "Keyboard A")
    service.version(user, a["id"])
    b_name, _ = service.unique_worker(user, "Keyboard B")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        opener = page.get_by_role("button", name="Create a worker run")
        _tab_to(page, opener)
        page.keyboard.press("Enter")
        modal = page.get_by_role("dialog", name="Create a worker run")
        expect(page.locator("#worker-search")).to_be_focused()

        # Type to search, Tab to the worker, Enter: its panel, focus on its heading.
        page.keyboard.type("Keyboard B", delay=30)
        expect(modal.locator("#workers .worker-item")).to_have_count(1)
        _tab_to(page, worker_button(modal, b_name))
        page.keyboard.press("Enter")
        expect_panel_shows(modal, b_name)
        expect(modal.locator("#worker-title")).to_be_focused()

        # Tab to the versions' "Create", Enter, type a tag, Enter: "+" has the focus, Enter.
        _tab_to(page, modal.locator("#create-version"))
        page.keyboard.press("Enter")
        expect(modal.get_by_label("Docker image tag")).to_be_focused()
        page.keyboard.type("keyboard:1")
        page.keyboard.press("Enter")
        plus = modal.get_by_role("button", name="Create a user worker run from version 1")
        expect(plus).to_be_focused()
        page.keyboard.press("Enter")
        run_id = shown_run_id(modal)
        assert service.run_worker_name(user, run_id) == b_name

        # Shift+Tab back to the search, clear it, pick A with the keyboard: A's panel.
        page.locator("#worker-search").focus()  # the dialog's first field, as Shift+Tab would reach it
        page.keyboard.press("Control+a")
        page.keyboard.press("Backspace")
        expect(modal.locator("#workers .worker-item")).to_have_count(2)
        _tab_to(page, worker_button(modal, a_name))
        page.keyboard.press("Enter")
        expect_panel_shows(modal, a_name)

        # Escape closes the dialog, the focus is back on its opener, the run is in the list.
        page.keyboard.press("Escape")
        expect(modal).to_be_hidden()
        expect(opener).to_be_focused()
        expect(page.locator(f"#runs tr[data-run-id='{run_id}']")).to_contain_text(b_name)
        shots(page, "keyboard-only", full_page=True)
        watch.expect_clean()


def test_two_tabs_of_the_same_user(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["frank"]
    first_name = unique("Tab worker")
    watch = Watch()
    with signed_in(browser, service, user, watch) as tab1, signed_in(browser, service, user, watch) as tab2:
        expect(tab2.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)
        modal2 = open_modal(tab2)
        expect(modal2.locator("#workers .worker-item")).to_have_count(0)

        # Tab 1 creates a worker and a version: tab 2's open modal lists the worker live.
        modal1 = open_modal(tab1)
        create_worker(modal1, first_name, "recognizer")
        expect_panel_shows(modal1, first_name)
        create_version(modal1, "tabs:1")
        expect(worker_button(modal2, first_name)).to_be_visible(timeout=LIVE_TIMEOUT_MS)

        # Tab 2 picks it and presses "+": tab 1's list shows the run live.
        pick_worker(modal2, first_name)
        expect(modal2.locator("#worker-detail .version")).to_have_count(1)
        modal2.get_by_role("button", name="Create a user worker run from version 1").click()
        run_id = shown_run_id(modal2)
        tab1.keyboard.press("Escape")
        expect(tab1.locator(f"#runs tr[data-run-id='{run_id}']")).to_contain_text(
            first_name, timeout=LIVE_TIMEOUT_MS)

        # Tab 1 presses "+" on the same version: the run tab 2 made, same ID.
        modal1 = open_modal(tab1)
        _plus(modal1).click()
        expect(modal1.locator("#existing-run-id")).to_have_text(run_id)
        warning = modal1.locator(".notice.warning")
        expect(warning).to_contain_text("already have a worker run for this version")
        expect_accessible(tab1, "run already exists")
        # "Create a new version": that worker's panel, with the form, and the run's ID on its version.
        modal1.get_by_role("button", name="Create a new version").click()
        expect_panel_shows(modal1, first_name)
        expect(modal1.locator("#version-form").get_by_label("Docker image tag")).to_be_focused()
        expect(modal1.locator("#worker-detail .version .run-id")).to_have_text(run_id)
        shots(tab1, "two-tabs-run-shown-in-first-tab")
        watch.expect_clean()


def test_phone_width(browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots) -> None:
    user = users["grace"]
    long_type = "handwritten-text-recognition-and-layout-analysis"
    a_name, a = service.unique_worker(user, "Phone worker with a rather long name", long_type)
    service.version(user, a["id"])
    b_name, _ = service.unique_worker(user, "Phone B")
    watch = Watch()
    with signed_in(browser, service, user, watch, **PHONE) as page:
        modal = open_modal(page)
        pick_worker(modal, a_name, tap=True)
        pick_worker(modal, b_name, tap=True)
        create_version(modal, "phone:1")
        modal.get_by_role("button", name="Create a user worker run from version 1").tap()
        run_id = shown_run_id(modal)
        expect(modal.locator("#new-run-id")).to_be_in_viewport()
        expect_accessible(page, "phone: run created")
        _expect_no_horizontal_scroll(page)
        shots(page, "phone-run-created")
        modal.get_by_role("button", name="Close").tap()
        row = page.locator(f"#runs tr[data-run-id='{run_id}']")
        expect(row).to_contain_text(b_name)
        worker_button(open_modal(page), a_name).tap()
        page.keyboard.press("Escape")
        _expect_no_horizontal_scroll(page)
        expect_accessible(page, "phone: runs page")
        shots(page, "phone-runs-page", full_page=True)
        watch.expect_clean()


def _expect_no_horizontal_scroll(page: Page) -> None:
    """Nothing sticks out sideways: no long word or ID widens the page past the screen."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    dialog = page.locator("dialog[open]")
    if dialog.count():
        inner = dialog.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert inner[0] <= inner[1], f"the dialog scrolls sideways: {inner}"


# --- when the page cannot show a write ---------------------------------------------------------------


def test_a_write_whose_answer_is_lost_says_so_and_reload_shows_it(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["heidi"]
    name, worker = service.unique_worker(user, "Lossy worker")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        sent: list[str] = []

        def reach_the_server_then_drop_the_answer(route: Route) -> None:
            response = route.fetch()  # the server creates the version...
            sent.append(str(response.status))
            route.abort("connectionreset")  # ...and the answer never reaches the page

        page.route("**/ui/workers/*/versions", reach_the_server_then_drop_the_answer)
        modal = open_modal(page)
        pick_worker(modal, name)
        modal.locator("#create-version").click()
        modal.get_by_label("Docker image tag").fill("lossy:1")
        submit = create_button(modal.locator("#version-form"))
        submit.click()
        problem = modal.get_by_role("alert").filter(has_text="may have been saved")
        expect(problem).to_be_visible()
        assert sent == ["200"]
        expect_accessible(page, "lost answer reported")
        shots(page, "lost-answer-reported")
        page.unroute("**/ui/workers/*/versions")

        problem.get_by_role("button", name="Reload the page").click()
        modal = open_modal(page)
        pick_worker(modal, name)
        # One version, not two: the page never invited a second press.
        expect(modal.locator("#worker-detail .version")).to_have_count(1)
        versions = service.get(user, f"/api/v1/workers/{worker['id']}/versions/")
        assert versions["count"] == 1, versions
        # The dropped connection is the one error the console may show.
        watch.expect_clean("net::ERR_CONNECTION_RESET", "htmx:sendError", "htmx:afterRequest")


def test_a_write_that_cannot_be_shown_says_so(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["ivan"]
    name, _ = service.unique_worker(user, "Unshown worker")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:

        def send_the_answer_somewhere_missing(route: Route) -> None:
            response = route.fetch()
            headers = {**response.headers, "hx-retarget": "#not-on-this-page"}
            route.fulfill(response=response, headers=headers)

        page.route("**/ui/workers/*/versions", send_the_answer_somewhere_missing)
        modal = open_modal(page)
        worker_button(modal, name).click()
        modal.locator("#create-version").click()
        create_button(modal.locator("#version-form")).click()
        problem = modal.get_by_role("alert").filter(has_text="Saved, but this page could not show")
        expect(problem).to_be_visible()
        expect(modal.get_by_role("button", name="Reload the page")).to_be_visible()
        shots(page, "saved-but-not-shown")
        watch.expect_clean("htmx:targetError", "Invalid re-target #not-on-this-page")


def test_a_form_cannot_be_sent_twice_while_in_flight(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["judy"]
    name, worker = service.unique_worker(user, "Slow worker")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        held: list[Route] = []
        page.route("**/ui/workers/*/versions", lambda route: held.append(route))
        modal = open_modal(page)
        worker_button(modal, name).click()
        modal.locator("#create-version").click()
        form = modal.locator("#version-form")
        submit = create_button(form)
        submit.click()
        expect(submit).to_be_disabled()  # while the request is in flight
        form.get_by_label("Branch").press("Enter")  # a second try: nothing is sent
        page.wait_for_timeout(300)
        assert len(held) == 1
        held[0].continue_()
        expect(modal.locator("#worker-detail .version")).to_have_count(1)
        versions = service.get(user, f"/api/v1/workers/{worker['id']}/versions/")
        assert versions["count"] == 1, versions
        watch.expect_clean()


