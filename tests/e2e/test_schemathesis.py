"""schemathesis against the served OpenAPI document, on both servers (issue 12).

Real processes: `worker-runs serve` (waitress, the embedded default: SQLite and the embedded
broker) and `worker-runs api` (gunicorn, production) on PostgreSQL. schemathesis reads the
document each server serves and sends bounded, seeded cases to every operation (examples,
the coverage phase's boundary and negative cases, then fuzzing), as an authenticated user.
The run must find 0 server errors and 0 answers the document does not describe (status,
content type, headers, body schema).

Found this way and fixed: a page number whose OFFSET overflows SQL was a 500; 401 and
sign-in answers carried fields the Error schema did not declare; 404 past the last page, 400
for a malformed Idempotency-Key and the HTTP server's own plain-text 413 were undocumented.

The live stream is left out: it is a long-lived answer, tested in tests/e2e/test_sse.py.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from tests.broker import database_url
from tests.conftest import PostgresSchema
from worker_runs.bootstrap import bootstrap
from worker_runs.ports import free_port
from worker_runs.settings import Settings
from worker_runs.users import create_user_with_token

pytestmark = pytest.mark.slow

#: bounded and seeded: the same cases on every run, a few minutes per server
MAX_EXAMPLES = "6"
SEED = "20261207"
CHECKS = ",".join((
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance",
))


def _token(database: str, home: Path) -> str:
    engine = make_engine(database)
    upgrade(engine)
    bus = bootstrap(Settings(home=home, database_url=database), engine=engine).bus
    token = create_user_with_token(bus, "fuzzer", "fuzzer@example.org", label="schemathesis").token
    engine.dispose()
    return token


def _started(argv: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2):
                return process
        except OSError:
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.3)


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _environment(home: Path, database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_RUNS_")}
    env.update({"WORKER_RUNS_HOME": str(home), "WORKER_RUNS_DATABASE_URL": database,
                # reads a case's writes wait for the projections at most this long
                "WORKER_RUNS_READ_WAIT": "0.5"})
    return env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """`worker-runs serve` on the embedded default (SQLite, embedded broker)."""
    database = f"sqlite:///{tmp_path / 'worker-runs.db'}"
    token = _token(database, tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    process = _started([sys.executable, "-m", "worker_runs.cli", "serve", "--port", str(port)],
                       _environment(tmp_path, database), port, log)
    try:
        yield f"http://127.0.0.1:{port}", token, log
    finally:
        _stop(process)


@pytest.fixture
def gunicorn(tmp_path: Path, pg_schema: PostgresSchema) -> Iterator[tuple[str, str, Path]]:
    """`worker-runs api` (gunicorn) on PostgreSQL."""
    engine = pg_schema.engine()
    upgrade(engine)
    database = database_url(engine)
    engine.dispose()
    token = _token(database, tmp_path)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = _started([sys.executable, "-m", "worker_runs.cli", "api", "--port", str(port),
                        "--workers", "2", "--threads", "4"],
                       _environment(tmp_path, database), port, log)
    try:
        yield f"http://127.0.0.1:{port}", token, log
    finally:
        _stop(process)


def _schemathesis(base: str, token: str, tmp_path: Path) -> tuple[int, str]:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is in the dev extra: pip install -e '.[dev]'"
    result = subprocess.run(
        [executable, "run", f"{base}/api/v1/openapi/", "-H", f"Authorization: Token {token}",
         "--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--seed", SEED,
         "--phases", "examples,coverage,fuzzing", "--exclude-path", "/api/v1/events/stream",
         "--request-timeout", "20", "--warnings", "off", "--workers", "1"],
        capture_output=True, text=True, timeout=1200, cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
    )
    (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
    return result.returncode, result.stdout + result.stderr


def _report(output: str) -> str:
    """The failures' headings and the summary, each line cut short (bodies can be megabytes)."""
    wanted = re.compile(r"^(_{5,}|- ST|\s+(Received|Documented|Value|Reproduce)|.*(SUMMARY|generated|rror))")
    keep = [line[:300] for line in output.splitlines() if wanted.match(line)]
    return "\n".join(keep[-200:])


def _summary(output: str) -> tuple[int, int]:
    """(cases generated, failures) from the run's summary line."""
    match = re.search(r"(\d+) generated, (\d+) found|(\d+) generated, (\d+) passed", output)
    assert match, _report(output)
    if match[1]:
        return int(match[1]), int(match[2])
    return int(match[3]), 0


@pytest.mark.parametrize("server", ["serve", pytest.param("gunicorn", marks=pytest.mark.postgres)])
def test_no_server_error_and_no_answer_outside_the_document(
    server: str, request: pytest.FixtureRequest, tmp_path: Path,
) -> None:
    base, token, log = request.getfixturevalue(server)
    code, output = _schemathesis(base, token, tmp_path)
    generated, failures = _summary(output)
    print(f"{server}: schemathesis generated {generated} cases, {failures} failures")
    assert code == 0 and failures == 0, _report(output)
    assert generated >= 500, _report(output)  # every operation was exercised, not just reached
    assert "Traceback" not in log.read_text(errors="replace")
