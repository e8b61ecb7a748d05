"""Objects created through the HTTP API (as `api`'s user), for the API and web-UI tests: each call
asserts its 201 and returns the answer's body."""

from __future__ import annotations

from typing import Any

from tests.api_support import Api


def make_corpus(api: Api, name: str = "Letters") -> dict[str, Any]:
    result = api.post("/api/v1/corpus/", {"name": name})
    assert result.status_code == 201, result.json
    return result.json


def make_type(api: Api, corpus_id: str, slug: str, folder: bool = False) -> dict[str, Any]:
    result = api.post(
        "/api/v1/elements/type/",
        {
            "corpus": corpus_id,
            "slug": slug,
            "display_name": slug.title(),
            "folder": folder,
        },
    )
    assert result.status_code == 201, result.json
    return result.json


def make_element(api: Api, corpus_id: str, type: str, name: str, **fields: Any) -> dict[str, Any]:
    result = api.post("/api/v1/elements/create/", {"corpus": corpus_id, "type": type, "name": name, **fields})
    assert result.status_code == 201, result.json
    return result.json


def make_run(api: Api, name: str = "HTR") -> dict[str, Any]:
    worker = api.create_worker(name, type="recognizer")
    return api.create_run(api.create_version(worker["id"])["id"])


def setup_page(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A corpus with folder/page types, a folder and a page in it, and a user worker run."""
    corpus = make_corpus(api)
    make_type(api, corpus["id"], "folder", folder=True)
    make_type(api, corpus["id"], "page")
    folder = make_element(api, corpus["id"], "folder", "Box 1")
    page = make_element(api, corpus["id"], "page", "Page 1", parent=folder["id"])
    return corpus, page, make_run(api)


def create_image(api: Api, url: str, **fields: Any) -> dict[str, Any]:
    result = api.post("/api/v1/image/iiif/url/", {"url": url, **fields})
    assert result.status_code == 201, result.json
    return result.json


def signed_by_run(api: Api) -> dict[str, Any]:
    """A run that signed 2 elements, 1 transcription, 1 classification and 1 metadata."""
    corpus, page, run = setup_page(api)
    lines = [make_element(api, corpus["id"], "page", f"Line {n}", parent=page["id"], worker_run_id=run["id"])
             for n in (1, 2)]
    transcription = api.post(f"/api/v1/element/{page['id']}/transcription/",
                             {"text": "Dear sir", "confidence": 0.9, "worker_run_id": run["id"]})
    assert transcription.status_code == 201, transcription.json
    ml_class = api.post(f"/api/v1/corpus/{corpus['id']}/classes/", {"name": "letter"})
    assert ml_class.status_code == 201, ml_class.json
    classification = api.post("/api/v1/classifications/", {
        "element": page["id"], "ml_class": ml_class.json["id"], "confidence": 0.8, "worker_run_id": run["id"],
    })
    assert classification.status_code == 201, classification.json
    metadata = api.post(f"/api/v1/element/{page['id']}/metadata/",
                        {"type": "text", "name": "sender", "value": "Jean", "worker_run_id": run["id"]})
    assert metadata.status_code == 201, metadata.json
    manual = api.post(f"/api/v1/element/{page['id']}/transcription/", {"text": "by hand"})
    return {"corpus": corpus, "page": page, "run": run, "lines": lines, "transcription": transcription.json,
            "classification": classification.json, "metadata": metadata.json, "manual": manual.json,
            "ml_class": ml_class.json}
