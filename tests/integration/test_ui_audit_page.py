# ruff: noqa: F811 - pytest fixtures imported from tests/api_support.py, requested by parameter name
"""The audit trail page, for administrators (issue 14), through Falcon's TestClient: GET
/api/v1/audit/'s filters (actor by username or id, run, type, time range) as a form, keyset
pages, the API's own CSV export behind "Download CSV"; a non-admin gets the answer of an unknown
page, an anonymous visitor the sign-in page; a filter the page cannot take says why (never a 500)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from api.ui import audit_page
from domain.events import EVENT_TYPES
from tests.api_factories import make_element, setup_page
from tests.api_support import Api, ApiUser
from tests.integration.test_ui_session import Browser

PAGE = "/worker-runs/audit"


def _positions(text: str) -> list[int]:
    return [int(p) for p in re.findall(r'data-position="(\d+)"', text)]


def _rows(text: str) -> list[str]:
    return re.findall(r"<tr data-position=.*?</tr>", text, flags=re.S)


def _types(text: str) -> set[str]:
    return set(re.findall(r'data-label="Type"><span class="badge">(\w+)<', text))


def _csv_href(text: str) -> str:
    match = re.search(r'id="audit-csv" href="([^"]+)"', text)
    assert match, "the page offers the CSV download"
    return html.unescape(match.group(1))


def _get(browser: Browser, **params: str) -> Any:
    return browser.get(f"{PAGE}?{urlencode(params)}")


def _local(moment: datetime) -> str:
    """What a datetime-local input sends."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def trail(api: Api, bob: ApiUser) -> dict[str, Any]:
    """Alice's run that signed an element, and Bob's worker."""
    corpus, page, run = setup_page(api)
    line = make_element(api, corpus["id"], "page", "Line 1", parent=page["id"], worker_run_id=run["id"])
    worker = api.as_user(bob).post("/api/v1/workers/", {"name": "Bob's OCR", "type": "ocr"})
    assert worker.status_code == 201, worker.json
    return {"corpus": corpus, "page": page, "run": run, "line": line, "bob_worker": worker.json}


def test_an_administrator_sees_the_audit_trail(api: Api, alice: ApiUser, admin: ApiUser,
                                               trail: dict[str, Any]) -> None:
    browser = Browser(api.client, admin)
    home = browser.get("/worker-runs")
    assert f'href="{PAGE}">Audit trail<' in home.text  # in the account menu, for administrators
    page = browser.get(PAGE)
    assert page.status_code == 200, page.text
    assert "<h1>Audit trail</h1>" in page.text
    run_id = trail["run"]["id"]
    rows = _rows(page.text)
    created = next(row for row in rows if "UserWorkerRunCreated" in row)
    # Time, actor by username, the run linked to its page, type, the object (the run itself).
    assert re.search(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', created)
    assert 'data-label="Actor">alice<' in created
    assert f'<a href="/worker-runs/runs/{run_id}"><code>{run_id}</code></a>' in created
    element = next(row for row in rows if "ElementCreated" in row and trail["line"]["id"] in row)
    assert f'href="/worker-runs/runs/{run_id}"' in element  # signed by the run
    assert f'href="/worker-runs/objects?id={trail["line"]["id"]}"' in element  # who created it?
    bob_row = next(row for row in rows if trail["bob_worker"]["id"] in row)
    assert 'data-label="Actor">bob<' in bob_row and 'data-label="Run" class="id-cell">—<' in bob_row
    # Every event type is offered by the filter.
    for name in EVENT_TYPES:
        assert f'<option value="{name}">{name}</option>' in page.text
    # The run's page an entry links to opens for the administrator.
    assert browser.get(f"/worker-runs/runs/{run_id}").status_code == 200


def test_others_do_not_get_the_page(api: Api, alice: ApiUser, trail: dict[str, Any]) -> None:
    browser = Browser(api.client, alice)
    assert PAGE not in browser.get("/worker-runs").text  # no link for a non-admin
    refused = browser.get(PAGE)
    unknown = browser.get("/worker-runs/no-such-page")
    assert refused.status_code == unknown.status_code == 404
    assert refused.text == unknown.text  # the same answer as a page that does not exist
    assert browser.get(f"{PAGE}?actor=alice", **{"HX-Request": "true"}).status_code == 404
    anonymous = api.client.simulate_get(PAGE)
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/sign-in"


def test_the_actor_filter_takes_a_username_or_an_id(api: Api, alice: ApiUser, bob: ApiUser, admin: ApiUser,
                                                    trail: dict[str, Any]) -> None:
    browser = Browser(api.client, admin)
    everything = _positions(browser.get(PAGE).text)
    by_name = browser.get(f"{PAGE}?actor=Bob")  # usernames match in any case, as at sign-in
    assert by_name.status_code == 200
    assert _types(by_name.text) == {"WorkerTypeCreated", "WorkerCreated"}
    assert all('data-label="Actor">bob<' in row for row in _rows(by_name.text))
    assert _positions(browser.get(f"{PAGE}?actor={bob.user_id}").text) == _positions(by_name.text)
    assert 0 < len(_positions(by_name.text)) < len(everything)
    # The form shows the filter as typed.
    assert 'id="audit-actor" name="actor" type="text" value="Bob"' in by_name.text

    for typed in ("nobody", "bob\x00", "x" * 500):
        unknown = _get(browser, actor=typed)
        assert unknown.status_code == 200, unknown.text
        assert "No user has this username or ID." in unknown.text and 'aria-invalid="true"' in unknown.text
        assert not _positions(unknown.text) and 'id="audit-csv"' not in unknown.text
    # The service's own actions (users created with the CLI): the actor "system".
    system = _get(browser, actor="system")
    assert system.status_code == 200 and "No user has" not in system.text
    assert "UserRegistered" in _types(system.text) and "WorkerCreated" not in _types(system.text)


def test_the_run_filter(api: Api, admin: ApiUser, trail: dict[str, Any]) -> None:
    browser = Browser(api.client, admin)
    run_id = trail["run"]["id"]
    page = _get(browser, worker_run=run_id)
    assert _types(page.text) == {"UserWorkerRunCreated", "ElementCreated"}
    assert all(f'href="/worker-runs/runs/{run_id}"' in row for row in _rows(page.text))
    for bad in ("not-a-run", "12345"):
        refused = _get(browser, worker_run=bad)
        assert refused.status_code == 200 and "Enter a worker run ID" in refused.text
        assert not _positions(refused.text)


def test_the_type_filter(api: Api, admin: ApiUser, trail: dict[str, Any]) -> None:
    browser = Browser(api.client, admin)
    page = _get(browser, type="ElementCreated")
    assert _types(page.text) == {"ElementCreated"} and len(_positions(page.text)) == 3  # folder, page, line
    assert '<option value="ElementCreated" selected>' in page.text
    refused = _get(browser, type="DROP TABLE events")
    assert refused.status_code == 200 and "Choose an event type from the list." in refused.text


def test_the_time_range(api: Api, admin: ApiUser, trail: dict[str, Any]) -> None:
    browser = Browser(api.client, admin)
    now = datetime.now(UTC)
    everything = _positions(browser.get(PAGE).text)
    assert _positions(_get(browser, since=_local(now - timedelta(hours=1))).text) == everything
    assert _positions(_get(browser, until=_local(now + timedelta(hours=1))).text) == everything
    assert not _positions(_get(browser, since=_local(now + timedelta(hours=1))).text)
    assert not _positions(_get(browser, until=_local(now - timedelta(hours=1))).text)
    between = _get(browser, since=_local(now - timedelta(hours=1)), until=_local(now + timedelta(hours=1)))
    assert _positions(between.text) == everything
    # With seconds (a datetime-local input with a step sends them).
    assert _positions(_get(browser, since=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")).text)

    for bad in ("yesterday", "2026-02-30T10:00", "2026-12-07 10:00", "99999-01-01T00:00"):
        refused = _get(browser, since=bad)
        assert refused.status_code == 200, (bad, refused.text)
        assert "Enter a date and time, like 2026-12-07T14:30 (UTC)." in refused.text
    backwards = _get(browser, since="2026-12-07T10:00", until="2026-12-07T09:00")
    assert backwards.status_code == 200 and "“To” must be later than “From”." in backwards.text


def test_pages(api: Api, alice: ApiUser, admin: ApiUser, trail: dict[str, Any],
               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_page, "PAGE_SIZE", 3)
    browser = Browser(api.client, admin)
    wanted = _positions(_get(browser, actor="alice", type="ElementCreated").text)
    assert len(wanted) == 3
    for n in range(4):
        make_element(api, trail["corpus"]["id"], "page", f"More {n}", parent=trail["page"]["id"])
    seen: list[int] = []
    page = _get(browser, actor="alice", type="ElementCreated")
    assert "First page" not in page.text
    for _ in range(5):
        shown = _positions(page.text)
        assert 0 < len(shown) <= 3
        seen += shown
        link = re.search(r'id="audit-next" href="([^"]+)"', page.text)
        if link is None:
            break
        href = html.unescape(link.group(1))
        assert "actor=alice" in href and "type=ElementCreated" in href  # the filters go along
        page = browser.get(href)
        assert 'id="audit-first"' in page.text
    assert len(seen) == 7 and seen == sorted(seen) and seen[:3] == wanted
    # A cursor typed by hand is the first page, never an error.
    for bad in ("x", "-1", "99999999999999999999999"):
        assert _get(browser, after=bad).status_code == 200


def test_htmx_gets_the_section_only(api: Api, admin: ApiUser, trail: dict[str, Any]) -> None:
    browser = Browser(api.client, admin)
    fragment = browser.get(f"{PAGE}?type=ElementCreated", **{"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="audit-trail"')
    assert "<html" not in fragment.text and _types(fragment.text) == {"ElementCreated"}
    assert fragment.headers["HX-Push-Url"] == f"{PAGE}?type=ElementCreated"  # no empty fields
    cleared = browser.get(f"{PAGE}?actor=&type=", **{"HX-Request": "true"})
    assert cleared.headers["HX-Push-Url"] == PAGE
    # Restoring history needs the whole page.
    restore = browser.get(f"{PAGE}?type=ElementCreated",
                          **{"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text
    assert fragment.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_the_csv_download_is_the_apis_export_of_the_same_filter(
    api: Api, alice: ApiUser, admin: ApiUser, trail: dict[str, Any],
) -> None:
    browser = Browser(api.client, admin)
    run_id = trail["run"]["id"]
    since = _local(datetime.now(UTC) - timedelta(hours=1))
    page = _get(browser, actor="alice", worker_run=run_id, type="ElementCreated", since=since)
    href = _csv_href(page.text)
    assert href.startswith("/api/v1/audit/?format=csv&")
    assert f"actor={alice.user_id}" in href  # the username resolved to the id the API takes
    download = browser.get(href)
    assert download.status_code == 200, download.text
    assert download.headers["Content-Type"].startswith("text/csv")
    assert 'filename="audit.csv"' in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [int(row["position"]) for row in rows] == _positions(page.text)
    assert {row["type"] for row in rows} == {"ElementCreated"}
    assert {row["worker_run_id"] for row in rows} == {run_id}
    assert {row["actor_id"] for row in rows} == {alice.user_id}
    # No filter: every event.
    everything = list(csv.DictReader(io.StringIO(browser.get(_csv_href(browser.get(PAGE).text)).text)))
    assert [int(row["position"]) for row in everything] == _positions(browser.get(PAGE).text)


def test_every_event_type_names_its_object() -> None:
    """A new event type must say which object it is about (or the page shows its stream's)."""
    assert set(audit_page.OBJECT_KEYS) == set(EVENT_TYPES)
    for name, key in audit_page.OBJECT_KEYS.items():
        assert key in EVENT_TYPES[name].__dataclass_fields__, (name, key)
