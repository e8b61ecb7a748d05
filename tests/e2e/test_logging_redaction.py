"""Logs hold no credential and no request body (issue 12, item 1).

A forced 500 (a command handler that blows up) is logged with its traceback, in both formats
(JSON for production, console for development): the traceback has no local variables, and
neither the caller's token, the `Authorization` header, a password nor a body value appears
anywhere in what the process printed. Before logging was configured, structlog printed rich
tracebacks with locals: the request object, the command (the body) and the token.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
import structlog

from api.app import create_app
from commands import messages as m
from tests.api_support import make_user
from tests.waiting import wait_until
from worker_runs.bootstrap import Container
from worker_runs.logging_config import REDACTED, configure_logging, redact_text
from worker_runs.ports import free_port

BODY_VALUE = "zq-body-value-7f3a"
PASSWORD = "hunter2-correct-horse"


@pytest.fixture(params=["json", "console"])
def log_format(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("WORKER_RUNS_LOG_FORMAT", raising=False)
    yield request.param
    # Back to a console configuration for the rest of the session (still redacted).
    configure_logging("console", force=True)


def _exploding_handler(command: m.CreateWorker, uow: Any, actor: Any) -> dict[str, Any]:
    password = PASSWORD  # a local a traceback with locals would print
    database_url = f"postgresql://app:{password}@db/prod"  # noqa: F841 - shown by locals-tracebacks only
    raise RuntimeError("the database said no")


def test_forced_500_logs_the_traceback_without_token_password_or_body(
    container: Container, log_format: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure_logging(log_format, force=True)
    alice = make_user(container, "alice")
    # The registry is shared by every container: patched for this test only.
    monkeypatch.setitem(container.bus.handlers, m.CreateWorker, _exploding_handler)
    client = falcon.testing.TestClient(create_app(container))

    result = client.simulate_post(
        "/api/v1/workers/",
        json={"name": BODY_VALUE, "slug": BODY_VALUE, "type": "recognizer"},
        headers={"Authorization": f"Token {alice.token}", "Cookie": f"session={PASSWORD}"},
    )

    assert result.status_code == 500
    assert alice.token not in result.text and BODY_VALUE not in result.text
    out, err = capfd.readouterr()
    logged = out + err
    assert "unhandled_error" in logged and "RuntimeError: the database said no" in logged
    assert "_exploding_handler" in logged  # the traceback is there ...
    for secret in (alice.token, PASSWORD, BODY_VALUE):
        assert secret not in logged  # ... but no local variable, header or body
    if log_format == "json":
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        error = next(line for line in lines if line["event"] == "unhandled_error")
        assert error["level"] == "error" and error["path"] == "/api/v1/workers/"
        assert "Traceback" in error["exception"]


def test_credentials_in_messages_and_fields_are_redacted(
    log_format: str, capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging(log_format, force=True)
    token = "0123456789abcdef0123456789abcdef01234567"
    structlog.get_logger("t").warning(
        "request failed", authorization=f"Token {token}", body={"name": BODY_VALUE},
        headers={"Cookie": "sessionid=abc", "Accept": "application/json"}, password=PASSWORD,
    )
    logging.getLogger("stdlib").error("login with password=%s and Token %s", PASSWORD, token)
    try:
        raise ValueError(f"connect to postgresql://u:{PASSWORD}@h/db with Authorization: Bearer {token}")
    except ValueError:
        logging.getLogger("stdlib").exception("connection failed")
    logged = "".join(capfd.readouterr())
    for secret in (token, PASSWORD, BODY_VALUE, "sessionid=abc"):
        assert secret not in logged
    assert "application/json" in logged and "request failed" in logged and REDACTED in logged


def test_redact_text_keeps_ordinary_text() -> None:
    text = "projection runs: event 42 of stream worker-1b2c applied in 3 ms"
    assert redact_text(text) == text
    assert redact_text("Authorization: Token abcdef123456") == f"Authorization: Token {REDACTED}"
    assert "s3cr3t" not in redact_text('{"password": "s3cr3t"}')


def test_a_normal_session_logs_no_credential(
    container: Container, log_format: str, capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging(log_format, force=True, level="DEBUG")
    alice = make_user(container, "alice")
    client = falcon.testing.TestClient(create_app(container))
    headers = {"Authorization": f"Token {alice.token}"}
    created = client.simulate_post("/api/v1/workers/", headers=headers,
                                   json={"name": BODY_VALUE, "slug": "ocr", "type": "recognizer"})
    assert created.status_code == 201
    assert client.simulate_get("/api/v1/workers/", headers=headers).status_code == 200
    refused = client.simulate_get("/api/v1/user/", headers={"Authorization": "Token wrong-token-value"})
    assert refused.status_code == 401
    logged = "".join(capfd.readouterr())
    for secret in (alice.token, BODY_VALUE, "wrong-token-value"):
        assert secret not in logged


def test_gunicorn_logs_are_json_and_redacted(tmp_path: Path) -> None:
    """`worker-runs api`: gunicorn's own error and access logs go through the same pipeline."""
    from tests.e2e.test_chunked_bodies import Setup

    setup = Setup(tmp_path)
    port = free_port()
    env = {**os.environ, "WORKER_RUNS_HOME": str(tmp_path), "WORKER_RUNS_DATABASE_URL": setup.database_url}
    env.pop("WORKER_RUNS_LOG_FORMAT", None)
    log_path = tmp_path / "api.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker_runs.cli", "api", "--port", str(port), "--workers", "1",
             "--threads", "2"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                url = f"http://127.0.0.1:{port}/livez?token={setup.token}"
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        break
                except urllib.error.HTTPError:
                    break  # answered (400: /livez takes no query), and logged
                except OSError:
                    assert process.poll() is None and time.monotonic() < deadline
                    time.sleep(0.2)
            # The access line is written after the answer.
            assert wait_until(lambda: "/livez" in log_path.read_text(errors="replace"), timeout=10)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert lines and all(line.startswith("{") for line in lines), lines[:5]
    access = [json.loads(line) for line in lines if "/livez" in line]
    assert access and access[0]["logger"] == "gunicorn.access"
    assert setup.token not in log_path.read_text()
