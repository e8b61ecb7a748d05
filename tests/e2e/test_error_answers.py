"""Smaller answers the issue found wrong (issue 12, item 9): each as a client sees it."""

from __future__ import annotations

import contextlib
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import falcon.testing

from api.errors import from_domain
from commands.errors import CommandConflict
from tests.api_factories import setup_page
from tests.api_support import Api


def test_an_invalid_webhook_secret_is_a_validation_error_on_the_secret(
    api: Api,
) -> None:
    result = api.post("/api/v1/webhooks/", {"url": "https://hooks.example.org/x",
                                             "events": ["worker.created"], "secret": "not-a-secret"})
    assert result.status_code == 400, result.text
    [error] = result.json["errors"]
    assert error["code"] == "invalid" and error["attr"] == ["secret"]  # not "url_refused"


def test_transcription_text_is_bounded(api: Api) -> None:
    from api.documents.schemas import MAX_TRANSCRIPTION_TEXT

    _corpus, page, _run = setup_page(api)
    path = f"/api/v1/element/{page['id']}/transcription/"
    too_long = api.post(path, {"text": "x" * (MAX_TRANSCRIPTION_TEXT + 1), "confidence": 0.5})
    assert too_long.status_code == 400 and too_long.json["errors"][0]["code"] == "max_length"
    assert too_long.json["errors"][0]["attr"] == ["text"]
    assert api.post(path, {"text": "x" * MAX_TRANSCRIPTION_TEXT, "confidence": 0.5}).status_code == 201


def test_too_many_concurrent_changes_says_when_to_retry() -> None:
    error = from_domain(CommandConflict("Too many concurrent changes to the same object; try again."))
    assert error.status == falcon.HTTP_409 and error.headers == {"Retry-After": "1"}


def test_two_api_processes_on_one_host_share_no_control_socket(tmp_path: Path) -> None:
    """gunicorn >= 25.1 opens a control socket at one path per user: two `worker-runs api` on
    one host fought over it. It is off; both serve."""
    from tests.e2e.test_chunked_bodies import Setup, _gunicorn

    setup = Setup(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    with _patched_environ(env):
        first, second = _gunicorn(setup), _gunicorn(setup)
        ports = [next(first), next(second)]
        try:
            for port in ports:
                assert urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=10).status == 200
            assert not list(home.rglob("*.ctl")), "a control socket was opened"
        finally:
            for runner in (first, second):
                runner.close()


@contextlib.contextmanager
def _patched_environ(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
