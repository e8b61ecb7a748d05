"""The web UI's email and password sign-in form (issue 10 B), on SQLite and PostgreSQL: a
session like the token form's, the same answer for any wrong credential, the same throttle."""

from __future__ import annotations

from urllib.parse import urlencode

from api.ui.session import COOKIE_NAME
from api.users.passwords import PasswordStore
from tests.api_support import Api, ApiUser
from worker_runs.bootstrap import Container

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PASSWORD = "correct horse battery staple"


def _post(api: Api, email: str, password: str, **headers: str) -> object:
    body = urlencode({"email": email, "password": password})
    return api.client.simulate_post("/sign-in/password", body=body, headers={**FORM, **headers})


def test_sign_in_with_a_password_opens_a_session(api: Api, alice: ApiUser, container: Container) -> None:
    PasswordStore(container.engine).set(alice.user_id, PASSWORD)
    page = api.client.simulate_get("/sign-in")
    assert 'action="/sign-in/password"' in page.text and 'autocomplete="username"' in page.text

    result = _post(api, "alice@example.org", PASSWORD)
    assert result.status_code == 303 and result.headers["location"] == "/worker-runs"  # type: ignore[attr-defined]
    cookie = result.cookies[COOKIE_NAME].value  # type: ignore[attr-defined]
    runs = api.client.simulate_get("/worker-runs", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
    assert runs.status_code == 200 and "alice" in runs.text


def test_wrong_credentials_show_the_form_again_then_are_throttled(
    api: Api, alice: ApiUser, container: Container,
) -> None:
    PasswordStore(container.engine).set(alice.user_id, PASSWORD)
    for email, password in (("alice@example.org", "wrong password"), ("nobody@example.org", PASSWORD)):
        result = _post(api, email, password)
        assert result.status_code == 200  # type: ignore[attr-defined]
        assert "Unable to sign in with this email and password." in result.text  # type: ignore[attr-defined]
        assert COOKIE_NAME not in result.cookies  # type: ignore[attr-defined]
        assert f'value="{email}"' in result.text  # type: ignore[attr-defined]
    for _ in range(4):
        _post(api, "alice@example.org", "still wrong")
    throttled = _post(api, "alice@example.org", PASSWORD)
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text  # type: ignore[attr-defined]
    assert int(throttled.headers["retry-after"]) > 0  # type: ignore[attr-defined]


def test_a_cross_site_password_sign_in_is_refused(api: Api, alice: ApiUser, container: Container) -> None:
    PasswordStore(container.engine).set(alice.user_id, PASSWORD)
    result = _post(api, "alice@example.org", PASSWORD, Origin="http://evil.example")
    assert result.status_code == 403 and COOKIE_NAME not in result.cookies  # type: ignore[attr-defined]
