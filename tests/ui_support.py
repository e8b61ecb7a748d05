"""Helpers for the browser tests: `worker-runs serve` in a subprocess, users made with the
CLI, seed data through the HTTP API, and Debian's Chromium driven by Playwright.

The service runs exactly as a user would start it (embedded SQLite + broker, relay, Celery
worker) on a free port with a throw-away WORKER_RUNS_HOME, so the browser sees the real
projections lag and the real read-your-writes behaviour.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.ui.resources import SIGN_IN
from tests.waiting import stop_process
from worker_runs.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
#: the machine's network is closed: without these, Chromium's background connections stall it
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env["WORKER_RUNS_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class CliUser:
    username: str
    token: str


def create_user(home: Path, username: str, *, admin: bool = False) -> CliUser:
    """`worker-runs users create NAME [--admin]`: the token is alone on the last line."""
    done = subprocess.run(
        [sys.executable, "-m", "worker_runs.cli", "users", "create", username,
         "--email", f"{username}@example.org", *(["--admin"] if admin else [])],
        env=_env(home), capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return CliUser(username, done.stdout.strip().splitlines()[-1])


class Service:
    """`worker-runs serve` on a free port; stopped with SIGTERM (its graceful path)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Service:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker_runs.cli", "serve", "--port", str(self.port)],
            env=_env(self.home), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker-runs serve exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"worker-runs serve did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        stop_process(process, 45, group=True)

    # --- the HTTP API, as a script would call it ---------------------------------------------------

    def api(self, user: CliUser, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Authorization": f"Token {user.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def worker(self, user: CliUser, name: str, type: str, **fields: Any) -> dict[str, Any]:
        status, body = self.api(user, "POST", "/api/v1/workers/", {"name": name, "type": type, **fields})
        assert status == 201, body
        return body

    def unique_worker(self, user: CliUser, name: str, type: str = "recognizer") -> tuple[str, dict[str, Any]]:
        """A worker named `name` made unique (`unique`), its slug from that name: the name and the worker."""
        name = unique(name)
        return name, self.worker(user, name, type, slug=slug(name))

    def version(self, user: CliUser, worker_id: str, **fields: Any) -> dict[str, Any]:
        status, body = self.api(user, "POST", f"/api/v1/workers/{worker_id}/versions/", fields)
        assert status == 201, body
        return body

    def run(self, user: CliUser, version_id: str) -> dict[str, Any]:
        status, body = self.api(user, "POST", "/api/v1/process/workers/", {"worker_version_id": version_id})
        assert status == 201, body
        return body

    def get(self, user: CliUser, path: str) -> Any:
        """GET `path`, which must answer 200; the body."""
        status, answer = self.api(user, "GET", path)
        assert status == 200, answer
        return answer

    def run_worker_name(self, user: CliUser, run_id: str) -> str:
        """The name of the worker whose version a run is of, as the server says."""
        return str(self.get(user, f"/api/v1/process/workers/{run_id}/")["worker_version"]["worker"]["name"])

    def create(self, user: CliUser, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `path`, which must answer 201; the created object."""
        status, answer = self.api(user, "POST", path, body)
        assert status == 201, answer
        return answer

    def run_and_corpus(self, user: CliUser, worker_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A run of a new segmenter (version v1) and a corpus "Letters" with a `page` type."""
        worker = self.worker(user, worker_name, "segmenter")
        run = self.run(user, self.version(user, worker["id"], tag="v1")["id"])
        corpus = self.create(user, "/api/v1/corpus/", {"name": "Letters"})
        self.create(user, "/api/v1/elements/type/",
                    {"corpus": corpus["id"], "slug": "page", "display_name": "Page"})
        return run, corpus


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def unique(name: str) -> str:
    """`name` made unique on this service (the browser modules share one per module)."""
    return f"{name} {time.time_ns() % 10**9}"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def open_modal(page: Any) -> Any:
    """The "Create a worker run" modal, opened from the runs list."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Create a worker run").click()
    modal = page.get_by_role("dialog", name="Create a worker run")
    expect(modal).to_be_visible()
    return modal


def sign_in(page: Any, service: Service, user: CliUser) -> None:
    page.goto(f"{service.url}{SIGN_IN}")
    page.get_by_label("API token").fill(user.token)
    page.get_by_label("API token").press("Enter")
    page.wait_for_url(f"{service.url}/worker-runs")


#: `new_context` options of a phone: its width, touch screen and mobile viewport
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def new_context(browser: Any, **kwargs: Any) -> Any:
    """A new browser context (1280x800 unless a viewport is given), 15 s for every wait."""
    context = browser.new_context(viewport=kwargs.pop("viewport", {"width": 1280, "height": 800}), **kwargs)
    context.set_default_timeout(15_000)
    return context


@contextmanager
def signed_in(
    browser: Any, service: Service, user: CliUser, watch: Watch | None = None, **context_options: Any,
) -> Iterator[Any]:
    """A page of a new context (`new_context` options), watched by `watch` when given, signed in
    as `user`; the context is closed after."""
    context = new_context(browser, **context_options)
    try:
        page = context.new_page()
        if watch is not None:
            watch.page(page)
        sign_in(page, service, user)
        yield page
    finally:
        context.close()


# --- the "Create a worker run" modal's steps ---------------------------------------------------------


def create_button(form: Any) -> Any:
    """A form's "Create" button."""
    return form.get_by_role("button", name="Create", exact=True)


def worker_button(modal: Any, name: str) -> Any:
    """The modal's list entry of the worker `name`."""
    return modal.locator("#workers").get_by_role("button", name=re.compile(re.escape(name)))


def expect_panel_shows(modal: Any, name: str) -> None:
    """The panel's heading is the worker, and the list highlights that worker and no other."""
    from playwright.sync_api import expect

    expect(modal.locator("#worker-detail").get_by_role("heading", level=3)).to_have_text(name)
    expect(worker_button(modal, name)).to_have_attribute("aria-current", "true")
    expect(modal.locator("#workers [aria-current='true']")).to_have_count(1)


def pick_worker(modal: Any, name: str, *, tap: bool = False) -> None:
    """Click (or tap) the worker in the list: its panel shows."""
    button = worker_button(modal, name)
    if tap:
        button.tap()
    else:
        button.click()
    expect_panel_shows(modal, name)


def create_worker(modal: Any, name: str, type: str) -> Any:
    """Fill the modal's "Create" worker form and send it; the form."""
    modal.locator("#create-worker").click()
    form = modal.locator("#worker-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Type").fill(type)
    create_button(form).click()
    return form


def create_version(modal: Any, docker_tag: str) -> None:
    """Create a version of the worker in the panel: one more version, and the notice says so."""
    from playwright.sync_api import expect

    detail = modal.locator("#worker-detail")
    before = int(detail.locator("#versions-title .count").inner_text())
    create_button(detail).click()
    form = detail.locator("#version-form")
    expect(form.get_by_label("Docker image tag")).to_be_focused()
    form.get_by_label("Docker image tag").fill(docker_tag)
    create_button(form).click()
    expect(detail.locator("#versions-title .count")).to_have_text(str(before + 1))
    expect(detail.get_by_text("Version created")).to_be_visible()


def shown_run_id(modal: Any, selector: str = "#new-run-id") -> str:
    """The run ID the modal shows (a UUID) in `selector`: "+"'s notice, or "#quick-run-id"."""
    from playwright.sync_api import expect

    shown = modal.locator(selector)
    expect(shown).to_be_visible()
    run_id = shown.inner_text().strip()
    assert UUID_RE.match(run_id), run_id
    return str(run_id)


class Shots:
    """Numbered PNG screenshots of each step, in test-artifacts/ui/ (git-ignored)."""

    def __init__(self, folder: Path = ARTIFACTS) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def __call__(self, page: Any, name: str, *, full_page: bool = False) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        return path


# --- what a person would notice: console errors, accessibility -------------------------------------


class Watch:
    """Everything a page logs as an error: console errors (CSP refusals, htmx errors, failed
    requests), uncaught exceptions and CSP warnings. The browser tests fail on any of them,
    except those a test names as the expected consequence of a failure it injects."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def page(self, page: Any) -> Any:
        label = f"page {len(self.errors)}"

        def on_console(message: Any) -> None:
            text = message.text
            csp = "Content Security Policy" in text or "Content-Security-Policy" in text
            if message.type == "error" or csp:
                self.errors.append(f"{label} console.{message.type}: {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{label} uncaught: {error}"))
        return page

    def expect_clean(self, *allowed: str) -> None:
        """No error logged, apart from ones containing one of `allowed`."""
        unexpected = [e for e in self.errors if not any(a in e for a in allowed)]
        assert not unexpected, "errors in the browser console:\n" + "\n".join(unexpected)


#: the impacts that fail a test (axe also reports "moderate" and "minor" ones)
BLOCKING_IMPACTS = ("serious", "critical")


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (dialog included)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING_IMPACTS:
            targets = [", ".join(map(str, node["target"])) for node in violation["nodes"]][:5]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def expect_accessible(page: Any, state: str) -> None:
    violations = accessibility_violations(page)
    assert not violations, f"accessibility violations in state '{state}':\n" + "\n".join(violations)
