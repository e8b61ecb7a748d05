# ruff: noqa: F811 - pytest fixtures imported from tests/api_support.py, requested by parameter name
"""The web UI's session cookie and CSRF protection, through Falcon's TestClient.

The cookie is HttpOnly, SameSite=Lax, signed, never holds the clear token, and ends with
sign-out (on the server: a copy of the cookie stops working too), expiry or the token's
revocation; cookie-authenticated unsafe requests (UI forms
and the JSON API alike) need the page's CSRF token, token-authenticated API calls do not.
"""

from __future__ import annotations

import re
import stat
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import falcon
import falcon.testing
import pytest
import sqlalchemy as sa
from alembic import command

from api.auth import Authenticator
from api.ui.revocations import SessionRevocations
from api.ui.session import COOKIE_NAME, SECRET_FILE, SessionCodec, load_secret_key
from api.ui.tables import ui_session_revocations
from commands.tokens import hash_token
from eventstore.migrate import alembic_config, current_revision, head_revision, upgrade
from tests.api_support import Api, ApiUser, revoke
from worker_runs.bootstrap import Container
from worker_runs.settings import Settings

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _set_cookie(result: falcon.testing.Result) -> str:
    headers = [value for name, value in result.headers.items() if name.lower() == "set-cookie"]
    assert headers, result.headers
    return headers[0]


def _sign_in(client: falcon.testing.TestClient, user: ApiUser, **headers: str) -> falcon.testing.Result:
    return client.simulate_post("/sign-in", body=f"token={user.token}", headers={**FORM, **headers})


class Browser:
    """A TestClient that keeps the session cookie, like a browser would."""

    def __init__(self, client: falcon.testing.TestClient, user: ApiUser) -> None:
        self.client = client
        result = _sign_in(client, user)
        assert result.status_code == 303, result.text
        self.cookie = result.cookies[COOKIE_NAME].value
        page = self.get("/worker-runs")
        assert page.status_code == 200, page.text
        match = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
        assert match, "the page carries its CSRF token"
        self.csrf = match.group(1)

    def headers(self, csrf: bool = False, **extra: str) -> dict[str, str]:
        headers = {"Cookie": f"{COOKIE_NAME}={self.cookie}", **extra}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers

    def get(self, path: str, **extra: str) -> falcon.testing.Result:
        return self.client.simulate_get(path, headers=self.headers(**extra))

    def post_form(self, path: str, body: str, csrf: bool = True, **extra: str) -> falcon.testing.Result:
        return self.client.simulate_post(path, body=body, headers=self.headers(csrf, **FORM, **extra))


# --- the cookie ---------------------------------------------------------------------------------


def test_sign_in_sets_an_httponly_samesite_signed_cookie_without_the_token(api: Api, alice: ApiUser) -> None:
    result = _sign_in(api.client, alice)
    assert result.status_code == 303
    assert result.headers["location"] == "/worker-runs"
    header = _set_cookie(result)
    morsel = SimpleCookie(header)[COOKIE_NAME]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) == 7 * 24 * 3600
    assert not morsel["secure"]  # plain HTTP here; see the HTTPS test below
    value = morsel.value
    assert alice.token not in header
    assert value.startswith("v1.") and value.count(".") == 2


def test_the_cookie_is_secure_behind_https(api: Api, alice: ApiUser) -> None:
    result = _sign_in(api.client, alice, **{"X-Forwarded-Proto": "https"})
    assert SimpleCookie(_set_cookie(result))[COOKIE_NAME]["secure"] is True


def test_a_tampered_or_foreign_cookie_is_not_a_session(api: Api, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    version, payload, signature = browser.cookie.split(".")
    forged = [
        f"{version}.{payload}.{signature[:-2]}AA",  # signature changed
        f"{version}.{payload[:-2]}AA.{signature}",  # payload changed
        SessionCodec(b"another instance's secret key!!").issue("0" * 64)[0],  # signed with another key
        "garbage",
    ]
    for value in forged:
        result = api.client.simulate_get("/worker-runs", headers={"Cookie": f"{COOKIE_NAME}={value}"})
        assert result.status_code == 303, value
        assert result.headers["location"] == "/sign-in"
        fragment = api.client.simulate_get(
            "/ui/runs", headers={"Cookie": f"{COOKIE_NAME}={value}", "HX-Request": "true"},
        )
        assert fragment.status_code == 401
        assert fragment.headers["hx-redirect"] == "/sign-in?reason=session-ended"


def test_a_non_ascii_cookie_or_csrf_token_is_refused_not_an_error(api: Api, alice: ApiUser) -> None:
    # Browsers send header bytes as they are; WSGI decodes them as Latin-1 into non-ASCII str.
    cookie = {"Cookie": f"{COOKIE_NAME}=v1.abc.\u00e9\u00e9"}
    me = api.client.simulate_get("/api/v1/user/", headers=cookie)
    assert me.status_code == 401, me.text
    page = api.client.simulate_get("/worker-runs", headers=cookie)
    assert page.status_code == 303 and page.headers["location"] == "/sign-in"
    browser = Browser(api.client, alice)
    body = {"name": "Accented", "slug": "accented", "type": "ocr"}
    refused = api.client.simulate_post(
        "/api/v1/workers/", json=body, headers=browser.headers(**{"X-CSRF-Token": "\u00e9" * 43})
    )
    assert refused.status_code == 403, refused.text
    assert refused.json["errors"][0]["code"] == "csrf_failed"


def test_sessions_expire() -> None:
    now = [1_000_000.0]
    codec = SessionCodec(b"0123456789abcdef0123456789abcdef", max_age=60, clock=lambda: now[0])
    value, session = codec.issue("a" * 64)
    assert codec.load(value) == session
    now[0] += 61
    assert codec.load(value) is None


def test_an_unknown_token_does_not_sign_in(api: Api, alice: ApiUser) -> None:
    result = api.client.simulate_post("/sign-in", body="token=not-a-token", headers=FORM)
    # The form again with its error, as any form the UI shows again (no console error in the browser)
    assert result.status_code == 200
    assert "unknown or has been revoked" in result.text
    assert COOKIE_NAME not in result.cookies


def test_a_cross_site_sign_in_is_refused(api: Api, alice: ApiUser) -> None:
    # Login CSRF: another site must not sign the browser in with the attacker's token.
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        result = _sign_in(api.client, alice, **headers)
        assert result.status_code == 403, headers
        assert COOKIE_NAME not in result.cookies


def test_revoking_the_token_ends_the_session(api: Api, container: Container, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    revoke(container, alice)
    result = browser.get("/worker-runs")
    assert result.status_code == 303
    assert result.headers["location"] == "/sign-in"


# --- CSRF ---------------------------------------------------------------------------------------


def test_ui_forms_refuse_a_missing_or_wrong_csrf_token(api: Api, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    body = "name=Forged&type=ocr"
    missing = browser.post_form("/ui/workers", body, csrf=False)
    assert missing.status_code == 403
    assert missing.json["errors"][0]["code"] == "csrf_failed"
    wrong = browser.post_form("/ui/workers", body, csrf=False, **{"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    # Another session's token does not fit this session either.
    other = Browser(api.client, alice)
    assert other.csrf != browser.csrf
    crossed = browser.post_form("/ui/workers", body, csrf=False, **{"X-CSRF-Token": other.csrf})
    assert crossed.status_code == 403
    assert api.get("/api/v1/workers/?name=Forged").json["count"] == 0
    # The form field works as well as the header (the sign-out form posts without JavaScript).
    ok = browser.post_form("/ui/workers", f"{body}&csrf_token={browser.csrf}", csrf=False)
    assert ok.status_code == 200, ok.text
    assert api.get("/api/v1/workers/?name=Forged").json["count"] == 1


def test_the_api_accepts_the_session_cookie_and_requires_csrf_for_unsafe_methods(
    api: Api, alice: ApiUser,
) -> None:
    browser = Browser(api.client, alice)
    # Safe: the cookie authenticates (the SSE stream and UI reads rely on this).
    listed = browser.get("/api/v1/process/workers/")
    assert listed.status_code == 200
    me = browser.get("/api/v1/user/")
    assert me.json["id"] == alice.user_id
    body = {"name": "From the cookie", "slug": "from-the-cookie", "type": "ocr"}
    refused = api.client.simulate_post("/api/v1/workers/", json=body, headers=browser.headers())
    assert refused.status_code == 403
    assert refused.json["errors"][0]["code"] == "csrf_failed"
    accepted = api.client.simulate_post("/api/v1/workers/", json=body, headers=browser.headers(csrf=True))
    assert accepted.status_code == 201, accepted.json
    # Token-authenticated calls stay CSRF-free.
    created = api.post("/api/v1/workers/", {"name": "By token", "slug": "by-token", "type": "ocr"})
    assert created.status_code == 201


def test_without_cookie_or_token_the_api_answers_401(api: Api) -> None:
    result = api.as_user(None).get("/api/v1/process/workers/")
    assert result.status_code == 401


# --- sign-out -------------------------------------------------------------------------------------


def test_sign_out_clears_the_cookie_and_needs_the_csrf_token(api: Api, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    refused = browser.post_form("/sign-out", "", csrf=False)
    assert refused.status_code == 403
    result = browser.post_form("/sign-out", f"csrf_token={browser.csrf}", csrf=False)
    assert result.status_code == 303
    assert result.headers["location"] == "/sign-in?reason=signed-out"
    morsel = SimpleCookie(_set_cookie(result))[COOKIE_NAME]
    assert morsel.value == ""
    assert morsel["expires"]  # in the past: the browser drops it
    assert morsel["httponly"] is True
    # The browser no longer sends a cookie: signed out.
    page = api.client.simulate_get("/worker-runs")
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in"


def _statements_on(engine: sa.Engine, table: str) -> list[str]:
    """Every SQL statement sent through `engine` that names `table` (appended as they run)."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if table in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    return seen


def _revoked_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(ui_session_revocations)).scalar_one()


def test_sign_out_ends_the_session_on_the_server(api: Api, container: Container, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    other = Browser(api.client, alice)  # the same user in another browser
    copied = browser.cookie  # e.g. taken from the browser before signing out
    result = browser.post_form("/sign-out", f"csrf_token={browser.csrf}", csrf=False)
    assert result.status_code == 303
    assert _revoked_rows(container.engine) == 1

    # The old value, replayed, is refused everywhere a cookie authenticates.
    replay = {"Cookie": f"{COOKIE_NAME}={copied}"}
    page = api.client.simulate_get("/worker-runs", headers=replay)
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in"
    fragment = api.client.simulate_get("/ui/runs", headers={**replay, "HX-Request": "true"})
    assert fragment.status_code == 401
    assert fragment.headers["hx-redirect"] == "/sign-in?reason=session-ended"
    for path in ("/api/v1/user/", "/api/v1/events/stream"):
        refused = api.client.simulate_get(path, headers=replay)
        assert refused.status_code == 401, path
        assert refused.json["errors"][0]["code"] == "not_authenticated", path
    # The sign-in page no longer takes it for a session either.
    assert api.client.simulate_get("/sign-in", headers=replay).status_code == 200

    # Only that session ended: the user's other session and their token go on.
    assert other.get("/worker-runs").status_code == 200
    assert other.get("/api/v1/user/").json["id"] == alice.user_id
    assert api.get("/api/v1/user/").status_code == 200


def test_signing_out_twice_is_fine(api: Api, container: Container, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    for _ in range(2):
        # The second time (another tab, a double click) the session has already ended: the
        # cookie is still cleared, and the revocation is not recorded twice.
        result = browser.post_form("/sign-out", f"csrf_token={browser.csrf}", csrf=False)
        assert result.status_code == 303
        assert result.headers["location"] == "/sign-in?reason=signed-out"
        assert SimpleCookie(_set_cookie(result))[COOKIE_NAME].value == ""
    assert _revoked_rows(container.engine) == 1
    # An ended session still cannot be signed out by another site (no CSRF token).
    assert browser.post_form("/sign-out", "", csrf=False).status_code == 403


def test_sign_out_works_after_the_token_was_revoked(api: Api, container: Container, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    revoke(container, alice)
    result = browser.post_form("/sign-out", f"csrf_token={browser.csrf}", csrf=False)
    assert result.status_code == 303
    assert SimpleCookie(_set_cookie(result))[COOKIE_NAME].value == ""


def test_only_cookie_requests_look_up_revoked_sessions(
    api: Api, container: Container, alice: ApiUser,
) -> None:
    browser = Browser(api.client, alice)
    lookups = _statements_on(container.engine, "ui_session_revocations")
    assert api.get("/api/v1/user/").status_code == 200
    assert lookups == []  # token-authenticated: no revocation lookup at all
    assert browser.get("/api/v1/user/").status_code == 200
    assert len(lookups) == 1  # cookie-authenticated: one primary-key lookup
    assert browser.get("/ui/runs").status_code == 200
    assert len(lookups) == 2


def test_a_credential_is_checked_again_with_the_same_rules(container: Container, alice: ApiUser) -> None:
    # What the SSE stream asks while it runs (api/auth.py, still_valid).
    revocations = SessionRevocations(container.engine)
    authenticator = Authenticator(container.store, revocations=revocations)
    codec = SessionCodec(b"0123456789abcdef0123456789abcdef")
    _, session = codec.issue(hash_token(alice.token))
    identity = authenticator.authenticate_session(session, expires_at=codec.expires_at(session))
    assert identity is not None and identity.credential is not None
    by_token = authenticator.authenticate(f"Token {alice.token}")
    assert by_token is not None and by_token.credential is not None
    assert by_token.credential.session_id is None
    assert authenticator.still_valid(identity.credential) and authenticator.still_valid(by_token.credential)

    expired = replace(identity.credential, expires_at=time.time() - 1)
    assert not authenticator.still_valid(expired)
    assert not authenticator.still_valid(None)  # no credential to check: fail closed
    authenticator.end_session(session)
    assert not authenticator.still_valid(identity.credential)
    assert authenticator.still_valid(by_token.credential)  # sign-out does not touch the token
    revoke(container, alice)
    assert not authenticator.still_valid(by_token.credential)


def test_revocations_are_idempotent_and_purged_after_a_session_lifetime(engine: sa.Engine) -> None:
    revocations = SessionRevocations(engine, max_age=60)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    revocations.revoke("old", now=start)
    revocations.revoke("old", now=start + timedelta(seconds=1))  # again: no error, one row
    assert revocations.is_revoked("old") and _revoked_rows(engine) == 1
    revocations.revoke("recent", now=start + timedelta(seconds=30))
    # A session revoked more than a lifetime ago has expired anyway: its row goes.
    revocations.revoke("new", now=start + timedelta(seconds=61))
    assert not revocations.is_revoked("old")
    assert revocations.is_revoked("recent") and revocations.is_revoked("new")
    assert not revocations.is_revoked("never-revoked")


def test_migration_0005_creates_the_revocation_table_and_its_indexes(engine: sa.Engine) -> None:
    # The fixture upgraded from zero; going down to 0004 and back up must work too.
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    assert "ui_session_revocations" not in sa.inspect(engine).get_table_names()
    upgrade(engine)
    assert current_revision(engine) == head_revision()  # back at the head, whatever came after 0005
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint("ui_session_revocations")["constrained_columns"] == ["session_id"]
    indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("ui_session_revocations")}
    assert indexes["ix_ui_session_revocations_revoked_at"] == ["revoked_at"]


# --- pages --------------------------------------------------------------------------------------


def test_pages_are_html_with_a_strict_csp_and_outside_the_openapi_document(api: Api, alice: ApiUser) -> None:
    browser = Browser(api.client, alice)
    page = browser.get("/worker-runs")
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in page.text  # no inline script: the CSP would block it
    paths = api.as_user(None).get("/api/v1/openapi/?format=json").json["paths"]
    assert not [p for p in paths if p.startswith(("/ui", "/sign-", "/worker-runs", "/static"))]
    assert paths.keys() >= {"/api/v1/process/workers/"}
    for asset in ("htmx.min.js", "app.js", "app.css", "favicon.svg"):
        assert api.client.simulate_get(f"/static/ui/{asset}").status_code == 200, asset


def test_a_signed_in_user_only_sees_their_own_runs_in_fragments(
    api: Api, alice: ApiUser, bob: ApiUser,
) -> None:
    worker = api.create_worker("Alice private")
    version = api.create_version(worker["id"])
    run = api.create_run(version["id"])
    as_bob = Browser(api.client, bob)
    for path in ("/worker-runs", "/ui/runs", "/ui/workers", f"/ui/workers/{worker['id']}"):
        result = as_bob.get(path, **{"HX-Request": "true"})
        assert run["id"] not in result.text and "Alice private" not in result.text, path
    assert as_bob.get(f"/ui/workers/{worker['id']}").status_code == 404
    as_alice = Browser(api.client, alice)
    assert run["id"] in as_alice.get("/ui/runs").text


def test_the_plus_button_answers_with_the_run_id_then_with_the_existing_one(api: Api, alice: ApiUser) -> None:
    worker = api.create_worker("Plus")
    version = api.create_version(worker["id"])
    browser = Browser(api.client, alice)
    body = f"worker_version_id={version['id']}&worker_id={worker['id']}"
    first = browser.post_form("/ui/runs", body, **{"HX-Request": "true"})
    assert first.status_code == 200
    assert first.headers.get("x-event-position")
    run_id = re.search(r'id="new-run-id">([^<]+)<', first.text).group(1)
    # The same response refreshes the runs list (out of band), already including the run.
    assert 'hx-swap-oob="outerHTML"' in first.text and f'data-run-id="{run_id}"' in first.text
    assert api.get(f"/api/v1/process/workers/{run_id}/").status_code == 200
    again = browser.post_form("/ui/runs", body, **{"HX-Request": "true"})
    assert re.search(r'id="existing-run-id">([^<]+)<', again.text).group(1) == run_id
    assert "Create a new version" in again.text


def test_the_version_form_explains_invalid_json(api: Api, alice: ApiUser) -> None:
    worker = api.create_worker("Json")
    browser = Browser(api.client, alice)
    for text, expected in (('{"a": 1,', "not valid JSON"), ("[1, 2]", "must be a JSON object"),
                           ('{"a": NaN}', "not valid JSON")):
        result = browser.post_form(f"/ui/workers/{worker['id']}/versions",
                                   f"configuration={falcon.uri.encode_value(text)}")
        # The form again (200: a normal answer of the page, not a failed request), with the error.
        assert result.status_code == 200
        assert 'id="version-form"' in result.text and 'aria-invalid="true"' in result.text
        assert expected in result.text, text
    assert api.get(f"/api/v1/workers/{worker['id']}/versions/").json["count"] == 0


# --- the secret key -----------------------------------------------------------------------------


def test_the_secret_key_is_generated_once_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    first = load_secret_key(settings)
    path = settings.home / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert load_secret_key(settings) == first
    configured = Settings(home=settings.home, database_url=settings.database_url, secret_key="k" * 40)
    assert load_secret_key(configured) == b"k" * 40


@pytest.mark.parametrize("secret", [b"", b"short"])
def test_a_short_secret_is_refused(secret: bytes) -> None:
    with pytest.raises(ValueError):
        SessionCodec(secret)


def test_an_unwritable_home_still_gives_a_working_key(tmp_path: Path) -> None:
    # A home that cannot hold the key file (here: it is a file; in production, a read-only
    # volume) gives a key for this process only instead of failing the API's start-up.
    home = tmp_path / "not-a-directory"
    home.write_text("")
    settings = Settings(home=home, database_url="postgresql+psycopg://db/app")
    key = load_secret_key(settings)
    assert len(key) >= 32
    assert load_secret_key(settings) != key  # not stored anywhere
    SessionCodec(key)  # usable


def test_fragments_are_paginated(api: Api, alice: ApiUser) -> None:
    for number in range(12):
        worker = api.create_worker(f"Paged {number:02d}", type="paged")
        api.create_run(api.create_version(worker["id"])["id"])
    browser = Browser(api.client, alice)
    first = browser.get("/ui/workers?filter_type=paged")
    assert first.text.count('class="worker-item') == 10
    assert "1 / 2" in first.text
    second = browser.get("/ui/workers?filter_type=paged&page=2")
    assert second.text.count('class="worker-item') == 2
    runs = browser.get("/ui/runs")
    assert runs.text.count("<tr data-run-id=") == 12  # 20 a page
    names = re.findall(r'<td data-label="Worker">([^<]+)</td>', runs.text)
    assert names[0] == "Paged 11" and names[-1] == "Paged 00"  # newest first


def test_the_sign_in_page_says_why_it_is_shown_without_echoing_the_url(api: Api) -> None:
    signed_out = api.client.simulate_get("/sign-in", params={"reason": "signed-out"})
    assert "You are signed out" in signed_out.text
    ended = api.client.simulate_get("/sign-in", params={"reason": "session-ended"})
    assert "Your session has ended" in ended.text
    other = api.client.simulate_get("/sign-in", params={"reason": "<b>you were hacked</b>"})
    assert other.status_code == 200 and "hacked" not in other.text and 'id="sign-in-notice"' not in other.text
