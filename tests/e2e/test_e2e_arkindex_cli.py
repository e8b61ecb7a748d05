"""End to end: the real, unmodified `arkindex-cli` 0.5 from PyPI against `worker-runs serve`,
as a process with only ARKINDEX_API_URL / ARKINDEX_API_TOKEN (or a profile saved by
`arkindex login`): sign in with a password, then `arkindex upload alto` signed by a user worker
run, with the page image on a IIIF server on this machine (tests/iiif_server.py; the service
runs with WORKER_RUNS_IIIF_ALLOW_PRIVATE=1).

The CLI lives in its own virtualenv (it pins its own arkindex-client, requests, ...), cached in
`.worker-runs-test-cache/` (git-ignored); its output is kept in `test-artifacts/e2e-arkindex-cli/`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_e2e_base_worker import CACHE, ROOT, Service
from tests.e2e.test_e2e_base_worker import service as service  # noqa: F401 - the fixture
from tests.iiif_server import IIIFServer

CLI_REQUIREMENT = "arkindex-cli==0.5.*"
FIXTURES = ROOT / "tests" / "fixtures" / "arkindex_cli"
ARTIFACTS = ROOT / "test-artifacts" / "e2e-arkindex-cli"
WORKER_RUNS = str(Path(sys.executable).parent / "worker-runs")
PASSWORD = "a long enough password"

# the service they start fetches info.json from the test IIIF server, on loopback
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("allow_loopback_iiif")]


@pytest.fixture(scope="session")
def arkindex_cli() -> Path:
    """The `arkindex` executable of a virtualenv holding the unmodified arkindex-cli 0.5."""
    venv = CACHE / "arkindex-cli-0.5"
    python, executable = venv / "bin" / "python", venv / "bin" / "arkindex"
    check = [str(python), "-c",
             "import importlib.metadata as m; assert m.version('arkindex-cli').startswith('0.5.')"]
    if executable.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return executable
    # Built beside, then renamed: an interrupted install never leaves a half-built cache.
    CACHE.mkdir(exist_ok=True)
    building = CACHE / f"building-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, timeout=300)
        installed = subprocess.run(
            [str(building / "bin" / "pip"), "install", "--quiet", CLI_REQUIREMENT],
            capture_output=True, text=True, timeout=900,
        )
        assert installed.returncode == 0, f"pip install {CLI_REQUIREMENT} failed:\n{installed.stderr[-3000:]}"
        shutil.rmtree(venv, ignore_errors=True)
        building.rename(venv)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    # The console script's shebang names the building path: call it through the final python.
    return executable


def run_cli(executable: Path, home: Path, name: str, *args: str, env: dict[str, str] | None = None,
            stdin: str = "") -> tuple[int, str]:
    """`arkindex ARGS` as a user runs it; no controlling terminal, so prompts read stdin."""
    done = subprocess.run(
        [str(executable.parent / "python"), str(executable), *args],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "COLUMNS": "200",
            **(env or {}),
        },
        input=stdin, capture_output=True, text=True, timeout=600, start_new_session=True, cwd=home,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"{name}.log"
    log.write_text(f"$ arkindex {' '.join(args)}\n{done.stdout}{done.stderr}")
    print(f"\narkindex-cli log ({name}, exit {done.returncode}): {log}")
    return done.returncode, done.stdout + done.stderr


def set_password(service: Service, username: str) -> None:
    done = subprocess.run(
        [WORKER_RUNS, "users", "set-password", username, "--password-stdin"],
        env=service.env, input=f"{PASSWORD}\n", capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr


def _all(service: Service, token: str, path: str) -> list[dict[str, Any]]:
    results, page = [], 1
    while True:
        body = service.ok("GET", f"{path}{'&' if '?' in path else '?'}page={page}&page_size=500", token)
        results += body["results"]
        if not body["next"]:
            return results
        page += 1


def _snapshot(service: Service, token: str, folder: str) -> dict[str, list[Any]]:
    """Everything under the folder: elements, their transcriptions and metadata."""
    elements = _all(service, token, f"/api/v1/elements/{folder}/children/?recursive=true&with_metadata=true")
    transcriptions = _all(service, token, f"/api/v1/element/{folder}/transcriptions/?recursive=true")
    metadata = [m for e in elements for m in e["metadata"]]
    return {"elements": elements, "transcriptions": transcriptions, "metadata": metadata}


def test_login_then_upload_alto_signed_by_a_user_run(
    arkindex_cli: Path, service: Service, iiif: IIIFServer, tmp_path: Path,  # noqa: F811
) -> None:
    token = service.cli("users", "create", "alice", "--email", "alice@example.org").strip().splitlines()[-1]
    set_password(service, "alice")
    home = tmp_path / "cli-user"  # the CLI user's home (`home` is the service's)
    home.mkdir()

    # `arkindex login`: schema, RetrieveUser without a token (features.oidc), then Login.
    code, output = run_cli(
        arkindex_cli, home, "login", "login", "--host", service.url,
        stdin=f"alice@example.org\n{PASSWORD}\nlocal\ny\n",
    )
    assert code == 0, output
    assert "Authentication successful" in output
    assert "local" in (home / "config" / "arkindex" / "cli.yaml").read_text()

    # A corpus with a folder, and a user worker run (through the API, as in the README).
    corpus = service.ok("POST", "/api/v1/corpus/", token, {"name": "Registers"})
    service.ok("POST", "/api/v1/elements/type/", token,
               {"corpus": corpus["id"], "slug": "folder", "display_name": "Folder", "folder": True})
    folder = service.ok("POST", "/api/v1/elements/create/", token,
                        {"corpus": corpus["id"], "type": "folder", "name": "ALTO import"})
    worker = service.ok("POST", "/api/v1/workers/", token, {"name": "ALTO import", "slug": "alto-import",
                                                            "type": "import"})
    version = service.ok("POST", f"/api/v1/workers/{worker['id']}/versions/", token, {})
    run = service.ok("POST", "/api/v1/process/workers/", token, {"worker_version_id": version["id"]})

    iiif.add_page("register-p1")
    alto = home / "alto"
    shutil.copytree(FIXTURES / "alto", alto)
    upload = ("-v", "-p", "local", "upload", "alto", str(alto), "--parent-id", folder["id"],
              "--iiif-base-url", f"{iiif.url}/iiif/2/", "--worker-run-id", run["id"], "--create-types")
    code, output = run_cli(arkindex_cli, home, "upload-alto", *upload)
    assert code == 0 and "Traceback" not in output, output

    first = _snapshot(service, token, folder["id"])
    by_type = sorted((e["type"], e["name"]) for e in first["elements"])
    # Children made by CreateElementTranscriptions are named by their position, as on Arkindex.
    assert by_type == [("page", "PAGE1"), ("printspace", "1"), ("textblock", "1"),
                       ("textline", "1"), ("textline", "2")], by_type
    # Every element, transcription and metadata the CLI created is signed by the run.
    assert {e["worker_run"]["id"] for e in first["elements"]} == {run["id"]}
    assert {t["worker_run"]["id"] for t in first["transcriptions"]} == {run["id"]}
    assert first["metadata"] and {m["worker_run_id"] for m in first["metadata"]} == {run["id"]}
    lines = sorted(t["text"] for t in first["transcriptions"] if t["element"]["type"] == "textline")
    assert lines == ["Paris, le 3", "mai 1789"]
    # The page lies on the IIIF image the CLI registered, and its lines inside it.
    page = next(e for e in first["elements"] if e["type"] == "page")
    assert page["zone"]["image"]["url"] == iiif.image_url("register-p1")
    assert page["zone"]["image"]["width"] == 1200 and page["zone"]["image"]["height"] == 1600

    # The same upload again (the CLI keeps its ALTO id -> element id cache beside the file):
    # links are already there, the metadata exist — nothing is added.
    code, output = run_cli(arkindex_cli, home, "upload-alto-again", *upload)
    assert code == 0 and "Traceback" not in output, output
    second = _snapshot(service, token, folder["id"])
    assert {k: sorted(str(x["id"]) for x in v) for k, v in second.items()} == {
        k: sorted(str(x["id"]) for x in v) for k, v in first.items()
    }


def _setup(service: Service, token: str, types: tuple[tuple[str, bool], ...]) -> tuple[dict[str, Any], ...]:
    """A corpus with these element types, a folder in it, and a user worker run."""
    corpus = service.ok("POST", "/api/v1/corpus/", token, {"name": "Registers"})
    for slug, is_folder in (("folder", True), *types):
        body = {"corpus": corpus["id"], "slug": slug, "display_name": slug.title(), "folder": is_folder}
        service.ok("POST", "/api/v1/elements/type/", token, body)
    folder = service.ok("POST", "/api/v1/elements/create/", token,
                        {"corpus": corpus["id"], "type": "folder", "name": "Import"})
    worker = service.ok("POST", "/api/v1/workers/", token,
                        {"name": "Import", "slug": "import", "type": "import"})
    version = service.ok("POST", f"/api/v1/workers/{worker['id']}/versions/", token, {})
    run = service.ok("POST", "/api/v1/process/workers/", token, {"worker_version_id": version["id"]})
    return corpus, folder, run


def test_upload_pagexml_with_only_the_environment(
    arkindex_cli: Path, service: Service, iiif: IIIFServer, tmp_path: Path,  # noqa: F811
) -> None:
    token = service.cli("users", "create", "alice").strip().splitlines()[-1]
    types = (("page", False), ("paragraph", False), ("text_line", False))
    corpus, folder, run = _setup(service, token, types)
    # PAGE-XML goes onto an existing page, found by its image's file name (ListElementChildren
    # with type, name and recursive), which lies on a IIIF image.
    iiif.add_page("register-p2")
    url = iiif.image_url("register-p2")
    image = service.ok("POST", "/api/v1/image/iiif/url/", token, {"url": url})
    page = service.ok("POST", "/api/v1/elements/create/", token, {
        "corpus": corpus["id"], "type": "page", "name": "register-p2.jpg", "parent": folder["id"],
        "image": image["id"], "polygon": [[0, 0], [0, 1600], [1200, 1600], [1200, 0]],
    })
    home = tmp_path / "cli-user"
    home.mkdir()
    shutil.copytree(FIXTURES / "pagexml", home / "pagexml")
    env = {"ARKINDEX_API_URL": service.url, "ARKINDEX_API_TOKEN": token}
    code, output = run_cli(arkindex_cli, home, "upload-pagexml", "-v", "upload", "pagexml",
                           "--xml-path", str(home / "pagexml"), "--parent", folder["id"],
                           "--worker-run-id", run["id"], env=env)
    assert code == 0 and "ERROR" not in output and "Traceback" not in output, output

    made = _snapshot(service, token, page["id"])
    assert sorted((e["type"], e["name"]) for e in made["elements"]) == [
        ("paragraph", "0"), ("text_line", "1"), ("text_line", "2"),
    ]
    texts = sorted((t["element"]["type"], t["text"]) for t in made["transcriptions"])
    assert texts == [("paragraph", "Baptême de Jean\nfils de Pierre"),
                     ("text_line", "Baptême de Jean"), ("text_line", "fils de Pierre")]
    assert {e["worker_run"]["id"] for e in made["elements"]} == {run["id"]}
    assert {t["worker_run"]["id"] for t in made["transcriptions"]} == {run["id"]}
    # PAGE attributes become metadata, signed too (the region's `type`, here).
    metadata = {(m["name"], m["value"], m["worker_run_id"]) for m in made["metadata"]}
    assert metadata == {("type", "paragraph", run["id"])}
    assert all(e["zone"]["image"]["id"] == image["id"] for e in made["elements"])


def test_upload_alto_into_an_export_database_then_export_docx(
    arkindex_cli: Path, service: Service, iiif: IIIFServer, tmp_path: Path,  # noqa: F811
) -> None:
    """`--db`: the CLI calls only RetrieveWorkerRun and CreateIIIFURL, writes everything into an
    Arkindex export database with the run, then `export … docx --worker-run-id` filters by it."""
    token = service.cli("users", "create", "alice").strip().splitlines()[-1]
    _, _, run = _setup(service, token, ())
    iiif.add_page("register-p1")
    home = tmp_path / "cli-user"
    home.mkdir()
    shutil.copytree(FIXTURES / "alto", home / "alto")
    env = {"ARKINDEX_API_URL": service.url, "ARKINDEX_API_TOKEN": token}
    database = home / "out.sqlite"
    code, output = run_cli(arkindex_cli, home, "upload-alto-db", "-v", "upload", "alto", str(home / "alto"),
                           "--db", str(database), "--iiif-base-url", f"{iiif.url}/iiif/2/",
                           "--worker-run-id", run["id"], "--create-types", env=env)
    assert code == 0 and "ERROR" not in output and "Traceback" not in output, output

    with sqlite3.connect(database) as db:
        runs = db.execute("SELECT id, worker_version_id FROM worker_run").fetchall()
        versions = db.execute("SELECT version, revision FROM worker_version").fetchall()
        signed = db.execute("SELECT COUNT(*) FROM element WHERE worker_run_id = ?", (run["id"],)).fetchone()
        unsigned = db.execute("SELECT COUNT(*) FROM element WHERE worker_run_id IS NULL").fetchone()
        images = db.execute("SELECT url, width, height FROM image").fetchall()
    assert runs == [(run["id"], run["worker_version"]["id"])]
    assert versions == [(1, None)]  # a numbered version, no Git revision
    # Every element is signed: the folder the CLI makes for the upload (--parent-name), the page,
    # its print space, block and two lines.
    assert signed[0] == 6 and unsigned[0] == 0
    assert images == [(iiif.image_url("register-p1"), 1200, 1600)]

    out = home / "docx"
    code, output = run_cli(arkindex_cli, home, "export-docx", "export", str(database), "docx",
                           "--worker-run-id", run["id"], "--line-type", "textline", "-o", str(out))
    assert code == 0 and "Traceback" not in output, output
    documents = list(out.glob("**/*.docx"))
    assert documents, output
    text = subprocess.run(
        [str(arkindex_cli.parent / "python"), "-c",
         "import docx, sys; print('\\n'.join(p.text for p in docx.Document(sys.argv[1]).paragraphs))",
         str(documents[0])],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "Paris, le 3" in text and "mai 1789" in text, text


def test_upload_mets_with_alto(
    arkindex_cli: Path, service: Service, iiif: IIIFServer, tmp_path: Path,  # noqa: F811
) -> None:
    """`upload mets --alto`: the ALTO pages first, then the METS structure (each element with a
    `METS ID` reference metadata); an ALTO page already uploaded is linked under its METS
    element with CreateElementParent. The same upload again adds nothing."""
    token = service.cli("users", "create", "alice").strip().splitlines()[-1]
    _, folder, run = _setup(service, token, ())
    iiif.add_page("register-p1")
    home = tmp_path / "cli-user"
    home.mkdir()
    shutil.copytree(FIXTURES / "mets", home / "mets")
    env = {"ARKINDEX_API_URL": service.url, "ARKINDEX_API_TOKEN": token}
    upload = ("-v", "upload", "mets", str(home / "mets" / "register.mets.xml"), "--alto",
              "--parent-id", folder["id"], "--iiif-base-url", f"{iiif.url}/iiif/2/",
              "--worker-run-id", run["id"])
    code, output = run_cli(arkindex_cli, home, "upload-mets", *upload, env=env)
    assert code == 0 and "ERROR" not in output and "Traceback" not in output, output

    first = _snapshot(service, token, folder["id"])
    assert {e["worker_run"]["id"] for e in first["elements"]} == {run["id"]}
    by_name = {(e["type"], e["name"]): e for e in first["elements"]}
    volume, act = by_name[("volume", "Register 1789")], by_name[("act", "Act 1")]
    page = by_name[("page", "PAGE1")]
    # Each METS element carries its reference, the volume its Dublin Core metadata too.
    described = {(e["name"], m["name"], str(m["value"]))
                 for e in (volume, act) for m in e["metadata"]}
    assert described == {
        ("Register 1789", "METS ID", "DIV_VOLUME"), ("Act 1", "METS ID", "DIV_ACT"),
        ("Register 1789", "Title", "Register of baptisms"), ("Register 1789", "Date", "1789"),
    }
    # The ALTO page is under the folder (ALTO upload) and under its METS act (CreateElementParent).
    parents = {p["id"] for p in _all(service, token, f"/api/v1/elements/{page['id']}/parents/")}
    assert parents == {folder["id"], act["id"]}
    ancestors = {p["id"] for p in _all(service, token, f"/api/v1/elements/{page['id']}/parents/?recursive=1")}
    assert ancestors == {folder["id"], act["id"], volume["id"]}

    code, output = run_cli(arkindex_cli, home, "upload-mets-again", *upload, env=env)
    assert code == 0 and "ERROR" not in output and "Traceback" not in output, output
    second = _snapshot(service, token, folder["id"])
    assert {k: sorted(str(x["id"]) for x in v) for k, v in second.items()} == {
        k: sorted(str(x["id"]) for x in v) for k, v in first.items()
    }
