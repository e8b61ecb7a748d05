"""`worker-runs openapi` and `worker-runs api` (gunicorn), as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner

from worker_runs.cli import main
from worker_runs.ports import free_port, wait_for_http
from worker_runs.users import create_user_with_token, sqlite_home


def test_openapi_command_prints_the_served_document() -> None:
    result = CliRunner().invoke(main, ["openapi", "--indent", "0"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["openapi"].startswith("3.0.")
    assert document["paths"]["/api/v1/process/workers/"]["post"]["operationId"] == "CreateUserWorkerRun"


def test_api_command_serves_the_app_with_gunicorn(tmp_path: Path) -> None:
    container = sqlite_home(tmp_path, "api.db")
    database_url = container.settings.database_url
    token = create_user_with_token(container.bus, "alice").token
    container.engine.dispose()

    port = free_port()
    env = {**os.environ, "WORKER_RUNS_HOME": str(tmp_path), "WORKER_RUNS_DATABASE_URL": database_url,
           "WORKER_RUNS_READ_WAIT": "0.2",
           # Quick heartbeats: a closed stream's thread notices at once, and shutdown needn't wait.
           "WORKER_RUNS_SSE_HEARTBEAT": "0.2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "worker_runs.cli", "api", "--port", str(port), "--workers", "1",
         "--threads", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/livez", process=process, what="the API",
                      diagnostics=lambda: process.stderr.read().decode() if process.stderr else "")
        schema = requests.get(f"{base}/api/v1/openapi/?format=json", timeout=5).json()
        assert schema["openapi"].startswith("3.0")
        headers = {"Authorization": f"Token {token}"}
        created = requests.post(
            f"{base}/api/v1/workers/", json={"name": "OCR", "type": "ocr"}, headers=headers, timeout=10,
        )
        # No projection worker runs in this test: the write succeeds and says its read is stale.
        assert created.status_code == 201
        assert created.headers["X-Stale"] == "true"
        assert requests.get(f"{base}/readyz", timeout=5).json()["database"] == "ok"
        # Two threads: one may hold a live stream, the other keeps serving requests.
        stream_url = f"{base}/api/v1/events/stream"
        with requests.get(stream_url, headers=headers, stream=True, timeout=10) as first:
            assert first.status_code == 200
            second = requests.get(stream_url, headers=headers, stream=True, timeout=10)
            assert second.status_code == 503 and second.json()["errors"][0]["code"] == "too_many_streams"
            assert requests.get(f"{base}/livez", timeout=5).status_code == 200
    finally:
        # gunicorn's arbiter stops its workers on SIGTERM (graceful shutdown).
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()
