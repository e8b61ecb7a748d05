"""End to end (issue 10): a real image worker — the unmodified `arkindex-base-worker` 0.6 — opens
page images through IIIF, segments their text lines, and publishes them with `create_elements`
and `create_element_transcriptions`, signed by a user worker run, against `worker-runs serve`
(SQLite and PostgreSQL) and the test IIIF server (IIIF Image API 2 and 3 pages) on loopback.

The worker's virtualenv and the service come from tests/e2e/test_e2e_base_worker.py; the service
runs with WORKER_RUNS_IIIF_ALLOW_PRIVATE=1 since the IIIF server is on this machine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_e2e_base_worker import (  # noqa: F401 - fixtures: worker_python, service
    ARTIFACTS,
    Service,
    create_user,
    service,
    worker_python,
)
from tests.iiif_server import IIIFServer

# the service they start fetches info.json from the test IIIF server, on loopback
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("allow_loopback_iiif")]

# The text lines the test IIIF server draws on every page (tests/iiif_server.py, draw_page).
LINE_TOPS = [150 + 110 * n for n in range(12)]

# An image worker as a developer would write one: open the page image through IIIF, find the
# dark text lines, publish them as elements, then their transcriptions on the same polygons
# (base-worker's usual two-step pattern: the second call reuses the children of the first).
WORKER_SCRIPT = """
from arkindex_worker import logger
from arkindex_worker.models import Element, Transcription
from arkindex_worker.worker import ElementsWorker


def runs(flags, minimum):
    found, start = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            if index - start >= minimum:
                found.append((start, index - 1))
            start = None
    return found


def text_lines(image):
    gray = image.convert("L")
    width, height = gray.size
    pixels = gray.load()
    row_dark = [sum(pixels[x, y] < 128 for x in range(width)) > width // 2 for y in range(height)]
    lines = []
    for top, bottom in runs(row_dark, 20):
        middle = (top + bottom) // 2
        (left, right), = runs([pixels[x, middle] < 128 for x in range(width)], 100)
        lines.append([[left, top], [right, top], [right, bottom], [left, bottom]])
    return lines


class LineSegmenter(ElementsWorker):
    def process_element(self, element):
        self._corpus_id = element.corpus.id
        image = element.open_image()
        x0, y0 = element.zone.polygon[0]
        polygons = [[[x + x0, y + y0] for x, y in line] for line in text_lines(image)]
        logger.info(f"{element.name}: image {image.size[0]}x{image.size[1]}, {len(polygons)} lines")
        created = self.create_elements(element, [
            {"name": f"line {n}", "type": "text_line", "polygon": polygon, "confidence": 0.9}
            for n, polygon in enumerate(polygons, start=1)
        ])
        annotations = self.create_element_transcriptions(element, "text_line", [
            {"polygon": polygon, "text": f"{element.name} line {n}", "confidence": 0.8,
             "element_confidence": 0.9}
            for n, polygon in enumerate(polygons, start=1)
        ])
        reused = sum(not a["created"] for a in annotations)
        same = [a["element_id"] for a in annotations] == [c["id"] for c in created]
        logger.info(f"{element.name}: {len(created)} elements, {len(annotations)} transcriptions, "
                    f"{reused} reused, same children: {same}")
        # A line's own zone crops the page on the IIIF server too.
        line = Element(self.api_client.request("RetrieveElement", id=created[0]["id"]))
        crop = line.open_image()
        logger.info(f"{element.name}: first line crop {crop.size[0]}x{crop.size[1]}")
        # The page's class, twice: the second is a warning from base-worker, not a failure.
        self.create_classification(element, "printed", 0.95)
        self.create_classification(element, "printed", 0.95)
        # "line 1" in the first line's text: a transcription entity.
        self.check_required_entity_types(["line-number"])
        text = f"{element.name} line 1"
        self.create_transcription_entity(
            Transcription({"id": annotations[0]["id"]}), self.entity_types["line-number"],
            offset=text.index("line 1"), length=len("line 1"), confidence=0.99,
        )


if __name__ == "__main__":
    LineSegmenter(description="worker-runs image worker e2e").run()
"""


def run_image_worker(python: Path, service: Service, token: str, run_id: str,  # noqa: F811
                     elements: list[str], name: str, tmp_path: Path) -> tuple[int, str]:
    script = tmp_path / "line_segmenter.py"
    script.write_text(WORKER_SCRIPT)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "ARKINDEX_API_URL": service.url,
        "ARKINDEX_API_TOKEN": token,
        "ARKINDEX_WORKER_RUN_ID": run_id,
    }
    done = subprocess.run(
        [str(python), str(script), "--element", *elements],
        env=env, capture_output=True, text=True, timeout=300,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"{name}.log"
    log_path.write_text(done.stdout + done.stderr)
    print(f"\nworker log ({name}, exit {done.returncode}): {log_path}")
    return done.returncode, done.stdout + done.stderr


def test_a_real_image_worker_segments_pages_and_signs_lines_and_transcriptions(
    worker_python: Path, service: Service, iiif: IIIFServer, tmp_path: Path,  # noqa: F811
) -> None:
    token = create_user(service, "alice")
    corpus = service.ok("POST", "/api/v1/corpus/", token, {"name": "Registers"})
    for slug, folder in (("folder", True), ("page", False), ("text_line", False)):
        service.ok("POST", "/api/v1/elements/type/", token,
                   {"corpus": corpus["id"], "slug": slug, "display_name": slug, "folder": folder})
    folder = service.ok("POST", "/api/v1/elements/create/", token,
                        {"corpus": corpus["id"], "type": "folder", "name": "Volume 1"})
    pages: list[dict[str, Any]] = []
    for name, version in (("f1", 2), ("f2", 3)):
        url = iiif.image_url(name, version)
        image = service.ok("POST", "/api/v1/image/iiif/url/", token, {"url": url})
        assert image["status"] == "checked" and image["server"]["version"] == version
        pages.append(service.ok("POST", "/api/v1/elements/create/", token, {
            "corpus": corpus["id"], "type": "page", "name": name, "parent": folder["id"],
            "image": image["id"],
        }))
    worker = service.ok("POST", "/api/v1/workers/", token,
                        {"name": "Lines", "slug": "lines", "type": "segmenter"})
    version = service.ok("POST", f"/api/v1/workers/{worker['id']}/versions/", token, {})
    run = service.ok("POST", "/api/v1/process/workers/", token, {"worker_version_id": version["id"]})

    code, log = run_image_worker(worker_python, service, token, run["id"], [p["id"] for p in pages],
                                 "image-worker", tmp_path)
    assert code == 0, log
    assert "Ran on 2 elements: 2 completed, 0 failed" in log, log
    for page in pages:
        assert f"{page['name']}: image 1200x1600, 12 lines" in log
        assert f"{page['name']}: 12 elements, 12 transcriptions, 12 reused, same children: True" in log
        assert f"{page['name']}: first line crop 1000x40" in log
    # The worker fetched pixels from the IIIF server, never from the API: the page crops
    # (IIIF 2 `full`, IIIF 3 `max`) and one line crop each.
    assert "/iiif/2/f1/0,0,1200,1600/full/0/default.jpg" in iiif.requests
    assert "/iiif/3/f2/0,0,1200,1600/max/0/default.jpg" in iiif.requests
    assert f"/iiif/2/f1/100,{LINE_TOPS[0]},1000,40/full/0/default.jpg" in iiif.requests

    signed = {"id": run["id"], "summary": run["summary"]}
    for page in pages:
        lines = service.ok("GET", f"/api/v1/elements/{page['id']}/children/?page_size=100", token)["results"]
        assert len(lines) == 12
        for line, top in zip(lines, LINE_TOPS, strict=True):
            assert line["type"] == "text_line" and line["worker_run"] == signed
            box = [[100, top], [1100, top], [1100, top + 40], [100, top + 40]]
            assert line["zone"]["polygon"] == [*box, box[0]]
            assert line["zone"]["image"]["id"] == page["zone"]["image"]["id"]
            texts = service.ok("GET", f"/api/v1/element/{line['id']}/transcriptions/", token)["results"]
            expected = f"{page['name']} {line['name']}"
            assert [(t["text"], t["worker_run"]) for t in texts] == [(expected, signed)]
        assert f"This worker run has already set printed on element {page['id']}" in log
        element = service.ok("GET", f"/api/v1/element/{page['id']}/", token)
        assert [(c["ml_class"]["name"], c["worker_run"]) for c in element["classifications"]] == [
            ("printed", signed)
        ]
        first_line = lines[0]
        transcription = service.ok("GET", f"/api/v1/element/{first_line['id']}/transcriptions/", token)
        entities = service.ok(
            "GET", f"/api/v1/transcription/{transcription['results'][0]['id']}/entities/", token,
        )["results"]
        assert [(e["offset"], e["length"]) for e in entities] == [(3, 6)]
    results = service.ok("GET", f"/api/v1/process/workers/{run['id']}/results/?with_count=true", token)
    # per page: 12 lines, 12 transcriptions, 1 classification (entities are not listed there)
    assert results["count"] == 2 * (12 + 12 + 1)
    assert all(r["worker_run"] == signed for r in results["results"])
