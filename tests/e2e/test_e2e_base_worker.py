"""End to end: the real, unmodified `arkindex-base-worker` 0.6 from PyPI runs locally against
`worker-runs serve` with a user worker run, and everything it publishes is signed by that run.

The worker library lives in its own virtualenv (it pins its own `arkindex-client`, `requests`,
...), cached in `.worker-runs-test-cache/` (git-ignored) so it is installed once per checkout.
The worker's logs are kept in `test-artifacts/e2e-base-worker/` and their paths printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PostgresSchema
from tests.waiting import stop_process
from worker_runs.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".worker-runs-test-cache"
BASE_WORKER_REQUIREMENT = "arkindex-base-worker==0.6.*"
ARTIFACTS = ROOT / "test-artifacts" / "e2e-base-worker"
CLI = str(Path(sys.executable).parent / "worker-runs")

pytestmark = pytest.mark.slow

# A small ElementsWorker, as a developer would write one. User worker runs have no corpus on
# their (local) process, so the worker takes the corpus of the element it processes, which
# base-worker needs to look up ML classes (arkindex-api.md §5.4).
WORKER_SCRIPT = """
from arkindex_worker import logger
from arkindex_worker.models import Transcription
from arkindex_worker.worker import ElementsWorker


class SignedDemo(ElementsWorker):
    def process_element(self, element):
        self._corpus_id = element.corpus.id
        transcription = self.create_transcription(element, f"Text of {element.name}", 0.93)
        self.create_classification(element, "handwritten", 0.81, high_confidence=True)
        # Twice: the service answers Arkindex's "must make a unique set", base-worker only warns.
        self.create_classification(element, "handwritten", 0.81, high_confidence=True)
        # An entity on the transcription ("Text"), its type created in the corpus if missing
        # (base-worker creates types even in read-only mode: only when publishing here).
        if not self.is_read_only:
            self.check_required_entity_types(["keyword"])
            keyword = self.entity_types["keyword"]
            self.create_transcription_entity(
                Transcription(transcription), keyword, offset=0, length=4, confidence=0.7)
        # Read back through base-worker's own helper (and the client's query encoding):
        # read-your-writes, and the Arkindex worker_run filter (a run id, or False).
        signed = list(self.list_transcriptions(element, worker_run=self.worker_run_id))
        manual = list(self.list_transcriptions(element, worker_run=False))
        logger.info(f"{element.name}: {len(signed)} signed, {len(manual)} manual transcription(s)")


if __name__ == "__main__":
    SignedDemo(description="worker-runs e2e demo").run()
"""


# --- the worker library's virtualenv -------------------------------------------------------------


@pytest.fixture(scope="session")
def worker_python() -> Path:
    """Python of a virtualenv holding the unmodified base-worker 0.6 (built once, then cached)."""
    venv = CACHE / "base-worker-0.6"
    python = venv / "bin" / "python"
    check = [
        str(python),
        "-c",
        "import arkindex_worker.worker, importlib.metadata as m; "
        "assert m.version('arkindex-base-worker').startswith('0.6.')",
    ]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    # Built beside, then renamed: an interrupted install never leaves a half-built cache.
    CACHE.mkdir(exist_ok=True)
    building = CACHE / f"building-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, timeout=300)
        installed = subprocess.run(
            [str(building / "bin" / "pip"), "install", "--quiet", BASE_WORKER_REQUIREMENT],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert installed.returncode == 0, (
            f"pip install {BASE_WORKER_REQUIREMENT} failed:\n{installed.stderr[-3000:]}"
        )
        shutil.rmtree(venv, ignore_errors=True)
        building.rename(venv)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    assert subprocess.run(check, capture_output=True).returncode == 0
    return python


# --- the service ---------------------------------------------------------------------------------


@dataclass
class Service:
    url: str
    home: Path
    env: dict[str, str]

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url.rstrip("/") + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Token {token}"} if token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def ok(self, method: str, path: str, token: str, body: Any = None) -> Any:
        status, data = self.call(method, path, token, body)
        assert 200 <= status < 300, (method, path, status, data)
        return data

    def head(self) -> int:
        return int(self.call("GET", "/readyz", None)[1]["head"])

    def cli(self, *args: str) -> str:
        done = subprocess.run([CLI, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """`worker-runs serve` (API, relay, Celery worker; embedded broker) on a free port, on SQLite
    (the embedded default) or on a throw-away PostgreSQL schema."""
    home = tmp_path / "home"
    env = {**os.environ, "WORKER_RUNS_HOME": str(home)}
    for key in ("WORKER_RUNS_DATABASE_URL", "WORKER_RUNS_BROKER_URL"):
        env.pop(key, None)
    schema = None
    if request.param == "postgres":
        schema = PostgresSchema()
        env["WORKER_RUNS_DATABASE_URL"] = f"{schema.url}?options=-csearch_path%3D{schema.name}"
        request.addfinalizer(schema.drop)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [CLI, "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = Service(f"http://127.0.0.1:{port}/", home, env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if running.call("GET", "/readyz", None)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "worker-runs serve did not become ready in 60 s"
            time.sleep(0.2)
        yield running
    finally:
        stop_process(process, 45)
        log.close()


def create_user(service: Service, username: str) -> str:
    """A user and their token, through the CLI (the token is alone on the last line)."""
    return service.cli("users", "create", username).strip().splitlines()[-1]


def run_worker(
    python: Path,
    service: Service,
    token: str,
    run_id: str | None,
    elements: list[str],
    name: str,
    tmp_path: Path,
) -> tuple[int, str]:
    script = tmp_path / "signed_demo_worker.py"
    script.write_text(WORKER_SCRIPT)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),  # base-worker's working directory
        "ARKINDEX_API_URL": service.url,
        "ARKINDEX_API_TOKEN": token,
    }
    if run_id is not None:
        env["ARKINDEX_WORKER_RUN_ID"] = run_id
    done = subprocess.run(
        [str(python), str(script), *(["--element", *elements] if elements else [])],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"{name}.log"
    log_path.write_text(done.stdout + done.stderr)
    print(f"\nworker log ({name}, exit {done.returncode}): {log_path}")
    return done.returncode, done.stdout + done.stderr


@dataclass
class Scene:
    token: str
    corpus: dict[str, Any]
    pages: list[dict[str, Any]]
    run: dict[str, Any]


@pytest.fixture
def scene(service: Service) -> Scene:
    """Through the API, as a user would: a corpus with types and pages, a local worker, a
    version and a user worker run."""
    token = create_user(service, "alice")
    corpus = service.ok("POST", "/api/v1/corpus/", token, {"name": "Parish registers"})
    for slug, folder in (("folder", True), ("page", False)):
        service.ok(
            "POST",
            "/api/v1/elements/type/",
            token,
            {"corpus": corpus["id"], "slug": slug, "display_name": slug.title(), "folder": folder},
        )
    folder = service.ok(
        "POST",
        "/api/v1/elements/create/",
        token,
        {"corpus": corpus["id"], "type": "folder", "name": "Volume 1"},
    )
    pages = [
        service.ok(
            "POST",
            "/api/v1/elements/create/",
            token,
            {"corpus": corpus["id"], "type": "page", "name": f"Page {n}", "parent": folder["id"]},
        )
        for n in (1, 2, 3)
    ]
    worker = service.ok(
        "POST", "/api/v1/workers/", token, {"name": "Demo HTR", "slug": "demo-htr", "type": "htr"}
    )
    version = service.ok("POST", f"/api/v1/workers/{worker['id']}/versions/", token, {})
    run = service.ok("POST", "/api/v1/process/workers/", token, {"worker_version_id": version["id"]})
    return Scene(token, corpus, pages, run)


# --- the scenarios -------------------------------------------------------------------------------


def test_real_base_worker_publishes_results_signed_by_the_user_worker_run(
    worker_python: Path,
    service: Service,
    scene: Scene,
    tmp_path: Path,
) -> None:
    ids = [page["id"] for page in scene.pages]
    code, log = run_worker(worker_python, service, scene.token, scene.run["id"], ids, "signed-run", tmp_path)
    assert code == 0, log
    assert f"Loaded {scene.run['summary']} from API" in log
    assert "Ran on 3 elements: 3 completed, 0 failed" in log
    for page in scene.pages:
        assert f"{page['name']}: 1 signed, 0 manual transcription(s)" in log

    signed = {"id": scene.run["id"], "summary": scene.run["summary"]}
    for page in scene.pages:
        transcriptions = service.ok("GET", f"/api/v1/element/{page['id']}/transcriptions/", scene.token)
        assert [(t["text"], t["worker_run"]) for t in transcriptions["results"]] == [
            (f"Text of {page['name']}", signed)
        ]
        element = service.ok("GET", f"/api/v1/element/{page['id']}/", scene.token)
        assert [(c["ml_class"]["name"], c["worker_run"]) for c in element["classifications"]] == [
            ("handwritten", signed)
        ]
        assert element["worker_run"] is None  # the page itself was created by the user
        (transcription,) = transcriptions["results"]
        entities = service.ok("GET", f"/api/v1/transcription/{transcription['id']}/entities/", scene.token)
        spans = [(e["type"]["name"], e["offset"], e["length"], e["worker_run"]) for e in entities["results"]]
        assert spans == [("keyword", 0, 4, signed)]
    assert log.count("This worker run has already set handwritten") == 3, log

    results = service.ok(
        "GET", f"/api/v1/process/workers/{scene.run['id']}/results/?with_count=true", scene.token
    )
    assert results["count"] == 6 and results["next"] is None
    assert sorted((r["type"], r["element_id"]) for r in results["results"]) == sorted(
        [("transcription", i) for i in ids] + [("classification", i) for i in ids]
    )
    assert all(r["worker_run"] == signed for r in results["results"])
    listing = service.cli("provenance", scene.run["id"])
    (ARTIFACTS / "signed-run.provenance.txt").write_text(listing)
    print(listing)
    assert "Worker         Demo HTR [demo-htr], type htr" in listing
    assert "6 object(s):" in listing and listing.count("handwritten") == 3
    one = results["results"][0]["id"]
    assert f"Worker run     {scene.run['id']}" in service.cli("provenance", "--object", one)

    # The worker run's worker, version, configuration and model are one call away.
    run = service.ok("GET", f"/api/v1/process/workers/{scene.run['id']}/", scene.token)
    assert run["worker_version"]["worker"]["slug"] == "demo-htr"


def test_someone_elses_run_fails_at_start_up_and_writes_nothing(
    worker_python: Path,
    service: Service,
    scene: Scene,
    tmp_path: Path,
) -> None:
    bob = create_user(service, "bob")
    head = service.head()
    code, log = run_worker(
        worker_python, service, bob, scene.run["id"], [scene.pages[0]["id"]], "foreign-run", tmp_path
    )
    assert code != 0
    assert "Failed to configure this worker" in log and "404" in log
    assert "User worker runs are personal" in log
    assert service.head() == head
    # Publishing directly with alice's run id, on bob's own element: refused.
    corpus = service.ok("POST", "/api/v1/corpus/", bob, {"name": "Bob's"})
    service.ok(
        "POST",
        "/api/v1/elements/type/",
        bob,
        {"corpus": corpus["id"], "slug": "page", "display_name": "Page"},
    )
    page = service.ok(
        "POST", "/api/v1/elements/create/", bob, {"corpus": corpus["id"], "type": "page", "name": "p"}
    )
    head = service.head()
    status, body = service.call(
        "POST",
        f"/api/v1/element/{page['id']}/transcription/",
        bob,
        {"text": "stolen", "confidence": 0.5, "worker_run_id": scene.run["id"]},
    )
    # Answered like a run that does not exist: no existence oracle (issue 12).
    assert (
        status == 400 and body["type"] == "validation_error" and body["errors"][0]["code"] == "does_not_exist"
    )
    assert service.head() == head


def test_read_only_developer_mode_reads_and_publishes_nothing(
    worker_python: Path,
    service: Service,
    scene: Scene,
    tmp_path: Path,
) -> None:
    head = service.head()
    code, log = run_worker(
        worker_python, service, scene.token, None, [p["id"] for p in scene.pages], "read-only", tmp_path
    )
    assert code == 0, log
    assert "worker is in read-only mode" in log
    assert "Processing Page Page 1" in log or "Processing page Page 1" in log
    assert service.head() == head
    assert service.ok(
        "GET", f"/api/v1/process/workers/{scene.run['id']}/results/?with_count=true", scene.token
    )["count"] == 0


def test_a_run_without_an_element_list_stops_cleanly(
    worker_python: Path, service: Service, scene: Scene, tmp_path: Path
) -> None:
    head = service.head()
    code, log = run_worker(worker_python, service, scene.token, scene.run["id"], [], "no-elements", tmp_path)
    # base-worker exits 1 when it had nothing to do; what matters: no traceback, nothing written.
    assert code == 1 and "No elements to process, stopping." in log, log
    assert "Traceback" not in log
    assert service.head() == head
