# ruff: noqa: F811 - module fixtures imported from tests/ui_fixtures.py, requested by parameter name
"""The smaller things of issue 14, as a person meets them in the browser: the account menu
(hover, click, Escape, a click outside), a duplicate slug, the revision URL, the slug's format
hint, the empty states, the form's buttons in view, long words on a phone, the signed-out
message and the way back from the API docs. Every test fails on a browser console error and
checks what it shows with axe-core.

Screenshots: test-artifacts/ui/details/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.ui_fixtures import browser, home, service, shots, users  # noqa: F401
from tests.ui_support import (
    PHONE,
    CliUser,
    Service,
    Shots,
    Watch,
    create_button,
    expect_accessible,
    open_modal,
    signed_in,
    slug,
    unique,
    worker_button,
)

pytestmark = pytest.mark.slow

#: screenshots: test-artifacts/ui/details/
SHOTS = "details"


def test_the_account_menu_opens_on_hover_and_click_and_closes_with_escape_or_outside(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["alice"]
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        menu = page.locator("summary", has_text="alice@example.org")
        sign_out = page.get_by_role("button", name="Sign out")
        expect(sign_out).to_be_hidden()
        menu.hover()
        expect(sign_out).to_be_visible()
        expect_accessible(page, "account menu open")
        shots(page, "account-menu-hover")
        page.get_by_role("heading", name="Worker runs", exact=True).hover()
        expect(sign_out).to_be_hidden()
        # A click (touch screens have no hover) opens it and keeps it open.
        menu.click()
        expect(sign_out).to_be_visible()
        page.mouse.move(5, 400)
        page.wait_for_timeout(500)
        expect(sign_out).to_be_visible()
        page.keyboard.press("Escape")
        expect(sign_out).to_be_hidden()
        menu.click()
        expect(sign_out).to_be_visible()
        page.get_by_role("heading", name="What is a user worker run?").click()
        expect(sign_out).to_be_hidden()
        # Keyboard: Enter on the focused menu opens it, Escape closes it and keeps the focus on it.
        menu.focus()
        page.keyboard.press("Enter")
        expect(sign_out).to_be_visible()
        page.keyboard.press("Escape")
        expect(sign_out).to_be_hidden()
        expect(menu).to_be_focused()
        watch.expect_clean()


def test_the_account_menu_by_touch_then_sign_out_and_the_signed_out_message(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["bob"]
    watch = Watch()
    with signed_in(browser, service, user, watch, **PHONE) as page:
        menu = page.locator("summary", has_text="bob@example.org")
        sign_out = page.get_by_role("button", name="Sign out")
        menu.tap()
        expect(sign_out).to_be_visible()
        page.get_by_role("heading", name="Worker runs", exact=True).tap()
        expect(sign_out).to_be_hidden()
        menu.tap()
        sign_out.tap()
        expect(page.get_by_role("status")).to_contain_text("You are signed out")
        expect(page.get_by_label("API token")).to_be_visible()
        expect_accessible(page, "signed out")
        shots(page, "signed-out")
        watch.expect_clean()


def test_the_api_docs_link_back_to_the_worker_runs(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["carol"]
    with signed_in(browser, service, user) as page:
        page.locator("summary", has_text="carol@example.org").click()
        page.get_by_role("link", name="API documentation").click()
        back = page.get_by_role("link", name="Back to worker runs")
        expect(back).to_be_visible()
        shots(page, "api-docs")
        back.click()
        expect(page.get_by_role("heading", name="Worker runs", exact=True)).to_be_visible()


def test_a_duplicate_slug_says_so_and_offers_that_worker(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["dave"]
    existing, _ = service.unique_worker(user, "Existing worker")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        modal = open_modal(page)
        modal.locator("#create-worker").click()
        form = modal.locator("#worker-form")

        # A bad slug: the error, and the format hint next to it.
        form.get_by_label("Name").fill("My copy")
        form.get_by_label("Slug").fill("not a slug!")
        form.get_by_label("Type").fill("scripting")
        create_button(form).click()
        form = modal.locator("#worker-form")
        expect(form.get_by_text("Enter a valid slug.")).to_be_visible()
        expect(form.get_by_text("Letters, digits, - and _.")).to_be_visible()
        expect(form.get_by_label("Slug")).to_be_focused()
        expect_accessible(page, "invalid slug")

        # The slug of an existing worker: a warning, what was typed is kept, and "Open".
        form.get_by_label("Slug").fill(slug(existing))
        create_button(form).click()
        warning = modal.get_by_role("alert").filter(has_text="already exists")
        expect(warning).to_contain_text(existing)
        expect(warning).to_contain_text("Nothing was created")
        expect(modal.locator("#worker-form").get_by_label("Name")).to_have_value("My copy")
        expect(modal.locator("#worker-form").get_by_label("Type")).to_have_value("scripting")
        expect(modal.locator("#workers .worker-item")).to_have_count(1)  # nothing new in the list
        expect_accessible(page, "duplicate slug")
        shots(page, "duplicate-slug")
        warning.get_by_role("button", name=f"Open {existing}").click()
        expect(modal.locator("#worker-detail").get_by_role("heading", level=3)).to_have_text(existing)
        expect(modal.locator("#workers [aria-current='true']")).to_contain_text(existing)
        watch.expect_clean()


def test_the_revision_url_is_validated(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["erin"]
    name, worker = service.unique_worker(user, "Revisioned")
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        modal = open_modal(page)
        worker_button(modal, name).click()
        modal.locator("#create-version").click()
        form = modal.locator("#version-form")
        form.get_by_label("Revision URL").fill("gitlab.com/me/worker commit 12")
        create_button(form).click()
        form = modal.locator("#version-form")
        expect(form.locator("#e-revision_url")).to_contain_text("starting with https://")
        expect(form.get_by_label("Revision URL")).to_be_focused()
        expect_accessible(page, "invalid revision URL")
        shots(page, "invalid-revision-url")
        assert service.get(user, f"/api/v1/workers/{worker['id']}/versions/")["count"] == 0
        form.get_by_label("Revision URL").fill("https://gitlab.com/me/worker/-/commit/0a1b2c3")
        create_button(form).click()
        expect(modal.locator("#worker-detail .version")).to_have_count(1)
        watch.expect_clean()


def test_empty_states_say_what_to_do(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["frank"]
    watch = Watch()
    with signed_in(browser, service, user, watch) as page:
        modal = open_modal(page)
        expect(modal.get_by_text("You have no worker yet")).to_be_visible()
        expect(modal.get_by_text("No worker matches")).to_have_count(0)
        expect_accessible(page, "no worker at all")
        shots(page, "no-worker-yet")
        service.worker(user, unique("Only worker"), "recognizer")
        modal.get_by_label("Search by name").fill("zzz")
        expect(modal.get_by_text("No worker matches “zzz”")).to_be_visible()
        expect(modal.get_by_text("You have no worker yet")).to_have_count(0)
        watch.expect_clean()


def test_the_create_worker_buttons_stay_in_view_at_1280x800(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["grace"]
    watch = Watch()
    with signed_in(browser, service, user, watch, viewport={"width": 1280, "height": 800}) as page:
        modal = open_modal(page)
        modal.locator("#create-worker").click()
        form = modal.locator("#worker-form")
        create_button(form).click()  # errors make the form longer
        form = modal.locator("#worker-form")
        expect(form.locator("#e-name")).to_be_visible()
        form.get_by_label("Name").focus()
        for name in ("Create", "Cancel"):
            expect(form.get_by_role("button", name=name, exact=True)).to_be_in_viewport(ratio=1)
        shots(page, "create-worker-buttons-in-view")
        watch.expect_clean()


#: every place a line breaks inside an element: the character before and after the break
_LINE_BREAKS = """el => {
  const breaks = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let previousTop = null, previous = "";
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rects = range.getClientRects();
      if (!rects.length || /\\s/.test(node.data[i])) continue;
      const top = Math.round(rects[0].top);
      if (previousTop !== null && top > previousTop + 2) breaks.push(previous + node.data[i]);
      previousTop = top;
      previous = node.data[i];
    }
  }
  return breaks;
}"""


def _expect_no_mid_word_break(element: Locator) -> None:
    for index in range(element.count()):
        breaks = element.nth(index).evaluate(_LINE_BREAKS)
        mid_word = [pair for pair in breaks if not pair.startswith(("-", "_", "/", " "))]
        assert not mid_word, f"{element.nth(index).inner_text()!r} breaks mid-word at {mid_word}"


def test_long_type_names_and_ids_do_not_break_mid_word_on_a_phone(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["heidi"]
    long_type = "handwritten-text-recognition-and-layout-analysis"
    name, worker = service.unique_worker(user, "Phone long type", long_type)
    run = service.run(user, service.version(user, worker["id"])["id"])
    watch = Watch()
    with signed_in(browser, service, user, watch, **PHONE) as page:
        row = page.locator(f"#runs tr[data-run-id='{run['id']}']")
        expect(row).to_be_visible()
        _expect_no_mid_word_break(row.locator(".run-id"))
        _expect_no_mid_word_break(row.locator(".badge"))
        shots(page, "phone-long-words", full_page=True)
        modal = open_modal(page)
        worker_button(modal, name).tap()
        expect(modal.locator("#worker-detail .version .run-id")).to_have_text(run["id"])
        _expect_no_mid_word_break(modal.locator(".badge"))
        _expect_no_mid_word_break(modal.locator("#worker-detail .run-id"))
        shots(page, "phone-long-words-modal")
        watch.expect_clean()
