# ruff: noqa: F811 - module fixtures imported from tests/ui_fixtures.py, requested by parameter name
"""Beyond Arkindex: the modal attaches a configuration and a model version to the run "+"
creates (issue 14). A person picks an existing configuration or creates one (named, JSON
validated), picks a model version, presses "+": the notification and the runs list say which
configuration and model; the run on the server has them. In Debian's Chromium, console clean,
states checked with axe-core.

Screenshots: test-artifacts/ui/run-options/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.ui_fixtures import browser, home, new_context, service, shots, users  # noqa: F401
from tests.ui_support import CliUser, Service, Shots, Watch, expect_accessible, open_modal, sign_in, unique

pytestmark = pytest.mark.slow

#: screenshots: test-artifacts/ui/run-options/
SHOTS = "run-options"


def _open_worker(page: Page, name: str) -> Locator:
    modal = open_modal(page)
    modal.locator("#workers").get_by_role("button", name=re.compile(re.escape(name))).click()
    expect(modal.locator("#worker-detail").get_by_role("heading", level=3)).to_have_text(name)
    return modal


def test_create_a_configuration_pick_a_model_version_then_plus(
    browser: Browser, service: Service, users: dict[str, CliUser], shots: Shots,
) -> None:
    user = users["alice"]
    name = unique("Configurable HTR")
    worker = service.worker(user, name, "recognizer")
    versions = [service.version(user, worker["id"], tag=f"v{n}") for n in (1, 2)]
    status, model = service.api(user, "POST", "/api/v1/models/", {"name": unique("Medieval HTR")})
    assert status == 201, model
    status, model_version = service.api(
        user, "POST", f"/api/v1/model/{model['id']}/versions/", {"tag": "best"},
    )
    assert status == 201, model_version
    status, existing = service.api(user, "POST", f"/api/v1/workers/{worker['id']}/configurations/",
                                   {"name": "Defaults", "configuration": {"threshold": 0.5}})
    assert status == 201, existing
    watch = Watch()
    context = new_context(browser)
    try:
        page = watch.page(context.new_page())
        sign_in(page, service, user)
        modal = _open_worker(page, name)
        options = modal.get_by_role("region", name="Run options")
        expect(options.get_by_label("Configuration")).to_have_value("")  # none by default
        expect(options.get_by_label("Configuration").locator("option")).to_have_text(["None", "Defaults"])
        expect_accessible(page, "run options")

        # A new configuration: invalid JSON first, a clear error and nothing created.
        options.get_by_role("button", name="New configuration").click()
        form = modal.locator("#configuration-form")
        expect(form.get_by_label("Name")).to_be_focused()
        form.get_by_label("Name").fill("Strict")
        form.get_by_label("Configuration (JSON object)").fill('{"threshold": 0.9,')
        form.get_by_role("button", name="Create configuration").click()
        form = modal.locator("#configuration-form")
        expect(form.locator("#e-cfg-json")).to_contain_text("not valid JSON")
        expect(form.get_by_label("Configuration (JSON object)")).to_be_focused()
        expect_accessible(page, "configuration invalid JSON")
        shots(page, "configuration-invalid-json")
        form.get_by_label("Configuration (JSON object)").fill('["not", "an object"]')
        form.get_by_role("button", name="Create configuration").click()
        expect(modal.locator("#e-cfg-json")).to_contain_text("JSON object")
        status, listed = service.api(user, "GET", f"/api/v1/workers/{worker['id']}/configurations/")
        assert [c["name"] for c in listed["results"]] == ["Defaults"]

        # Valid: created, and chosen for the next run.
        modal.locator("#configuration-form").get_by_label("Configuration (JSON object)").fill(
            '{"threshold": 0.9, "languages": ["la", "fr"]}')
        modal.locator("#configuration-form").get_by_role("button", name="Create configuration").click()
        expect(modal.get_by_text("Configuration “Strict” created")).to_be_visible()
        config_select = modal.get_by_role("region", name="Run options").get_by_label("Configuration")
        expect(config_select.locator("option:checked")).to_have_text("Strict")
        expect(config_select).to_be_focused()
        model_select = modal.get_by_role("region", name="Run options").get_by_label("Model version")
        model_select.select_option(label=f"{model['name']} · version 1 (best)")
        shots(page, "configuration-and-model-chosen")

        # "+" on version 2: the notification and the list say which configuration and model.
        modal.get_by_role("button", name="Create a user worker run from version 2").click()
        notice = modal.locator(".notice.success")
        expect(notice).to_contain_text("Worker run created")
        expect(notice).to_contain_text("the configuration Strict")
        expect(notice).to_contain_text(f"the model {model['name']} (version 1)")
        run_id = modal.locator("#new-run-id").inner_text().strip()
        expect_accessible(page, "run with configuration and model")
        shots(page, "run-with-configuration-and-model")

        # "+" on version 1 with the existing configuration and no model.
        config_select.select_option(label="Defaults")
        model_select.select_option("")
        modal.get_by_role("button", name="Create a user worker run from version 1").click()
        expect(modal.locator(".notice.success")).to_contain_text("the configuration Defaults")
        expect(modal.locator(".notice.success")).not_to_contain_text("the model")
        second_id = modal.locator("#new-run-id").inner_text().strip()
        assert second_id != run_id

        page.keyboard.press("Escape")
        row = page.locator(f"#runs tr[data-run-id='{run_id}']")
        expect(row.locator("td[data-label='Configuration']")).to_have_text("Strict")
        expect(row.locator("td[data-label='Model']")).to_have_text(f"{model['name']} (version 1)")
        other = page.locator(f"#runs tr[data-run-id='{second_id}']")
        expect(other.locator("td[data-label='Configuration']")).to_have_text("Defaults")
        expect(other.locator("td[data-label='Model']")).to_have_text("—")
        shots(page, "runs-list-configuration-and-model", full_page=True)

        # The server has them: the run's configuration and model version are the ones picked.
        status, run = service.api(user, "GET", f"/api/v1/process/workers/{run_id}/")
        assert status == 200, run
        assert run["configuration"]["name"] == "Strict"
        assert run["configuration"]["configuration"] == {"threshold": 0.9, "languages": ["la", "fr"]}
        assert run["model_version"]["id"] == model_version["id"]
        assert run["worker_version"]["id"] == versions[1]["id"]
        watch.expect_clean()
    finally:
        context.close()
