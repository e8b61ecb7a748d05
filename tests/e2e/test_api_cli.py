"""`worker-runs openapi` and `worker-runs api` (gunicorn), as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner

from commands.messages import IssueToken, RegisterUser
from commands.tokens import generate_token, hash_token
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from worker_runs.bootstrap import bootstrap
from worker_runs.cli import main
from worker_runs.ports import free_port
from worker_runs.settings import Settings


def test_openapi_command_prints_the_served_document() -> None:
    result = CliRunner().invoke(main, ["openapi", "--indent", "0"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["openapi"].startswith("3.0.")
    assert document["paths"]["/api/v1/process/workers/"]["post"]["operationId"] == "CreateUserWorkerRun"


def test_api_command_serves_the_app_with_gunicorn(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'api.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    container = bootstrap(Settings(home=tmp_path, database_url=database_url), engine=engine)
    user_id = container.bus.handle(RegisterUser("alice")).data["user_id"]
    token = generate_token()
    container.bus.handle(IssueToken(user_id=user_id, token_hash=hash_token(token)))
    engine.dispose()

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
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/livez", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
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
