"""The documented bulk script (examples/bulk_transcriptions.py) with the official
`arkindex-client`, against a real HTTP server, on SQLite and PostgreSQL: a few thousand
transcriptions signed by a user worker run, one transaction per batch."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import falcon
import pytest
from arkindex import ArkindexClient
from arkindex.exceptions import ErrorResponse

from commands import messages as m
from projections.consistency import wait_for_position
from tests.api_support import ApiUser, BackgroundProjector, ServerThread
from worker_runs.bootstrap import Container

ROOT = Path(__file__).resolve().parents[2]


def _load_example() -> Any:
    # examples/ is documentation, not a package: load the script by path, as users run it.
    path = ROOT / "examples" / "bulk_transcriptions.py"
    spec = importlib.util.spec_from_file_location("bulk_transcriptions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import_transcriptions = _load_example().import_transcriptions

COUNT = 2500


def _run_and_elements(container: Container, user: ApiUser, count: int) -> tuple[str, list[str]]:
    bus, actor = container.bus, user.actor
    corpus_id = bus.handle(m.CreateCorpus(name="Bulk"), actor=actor).data["corpus_id"]
    bus.handle(m.CreateElementType(corpus_id=corpus_id, slug="line", display_name="Line"), actor=actor)
    worker_id = bus.handle(m.CreateWorker(name="Importer", slug="importer", type="import"), actor=actor).data[
        "worker_id"
    ]
    version_id = bus.handle(m.CreateWorkerVersion(worker_id=worker_id), actor=actor).data["version_id"]
    run_id = bus.handle(m.CreateUserRun(worker_version_id=version_id), actor=actor).data["run_id"]
    elements = [
        bus.handle(m.CreateElement(corpus_id=corpus_id, type="line", name=f"Line {n}"), actor=actor).data[
            "element_id"
        ]
        for n in range(count)
    ]
    return run_id, elements


def test_bulk_script_imports_signed_transcriptions(
    app: falcon.App,
    projector: BackgroundProjector,
    container: Container,
    alice: ApiUser,
    bob: ApiUser,
) -> None:
    run_id, elements = _run_and_elements(container, alice, 50)
    items = [{"element_id": elements[n % 50], "text": f"line {n}", "confidence": 0.9} for n in range(COUNT)]
    with ServerThread(app) as server:
        client = ArkindexClient(token=alice.token, base_url=server.url)
        head = container.store.head()
        created = import_transcriptions(client, run_id, items, batch_size=1000, progress=False)
        assert len(created) == len(set(created)) == COUNT
        assert container.store.head() == head + COUNT
        assert wait_for_position(container.engine, container.store.head(), names=["documents"], timeout=60)
        results = client.request(
            "ListWorkerRunResults", id=run_id, type="transcription", page_size=1, with_count=True
        )
        assert results["count"] == COUNT and results["next"] is not None
        listed = client.request("ListTranscriptions", id=elements[0], worker_run=run_id)
        assert listed["count"] == COUNT // 50
        # Someone else cannot import with this run: the whole batch is refused.
        other = ArkindexClient(token=bob.token, base_url=server.url)
        head = container.store.head()
        with pytest.raises(ErrorResponse) as refused:
            import_transcriptions(other, run_id, items[:10], progress=False)
        # Answered like an unknown run (issue 12: no existence oracle for other users' runs).
        assert refused.value.status_code == 400
        assert refused.value.content["errors"][0]["code"] == "does_not_exist"
        assert container.store.head() == head


def test_bulk_script_command_line(
    tmp_path: Path, app: falcon.App, projector: BackgroundProjector, container: Container, alice: ApiUser
) -> None:
    run_id, elements = _run_and_elements(container, alice, 3)
    source = tmp_path / "transcriptions.jsonl"
    source.write_text(
        "".join(
            json.dumps({"element_id": e, "text": f"t{n}", "confidence": 0.5}) + "\n"
            for n, e in enumerate(elements * 10)
        )
    )
    with ServerThread(app) as server:
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "bulk_transcriptions.py"),
                str(source),
                "--batch-size",
                "7",
            ],
            env={
                "ARKINDEX_API_URL": server.url,
                "ARKINDEX_API_TOKEN": alice.token,
                "ARKINDEX_WORKER_RUN_ID": run_id,
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert f"30 transcriptions signed by worker run {run_id}" in done.stderr
    assert "batch 5: 30 transcriptions imported" in done.stderr
