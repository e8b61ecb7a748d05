"""A tiny IIIF Image API server for the tests (issue 10), on loopback, in a thread.

Serves real pixels: each image is a page drawn with Pillow (a white sheet with dark text
lines), `info.json` in IIIF Image API 2 (`/iiif/2/<name>`) or 3 (`/iiif/3/<name>`), and
`<region>/<size>/<rotation>/default.jpg` crops and resizes. Misbehaving servers for the error
tests live beside it: `/html/…` answers a web page, `/hang/…` never answers, `/huge/…` streams
an endless body, `/loop/…` redirects to itself, `/moved/…` redirects once to `/iiif/2/…`,
`/missing/…` is a 404. Every request is recorded (`requests`) so tests can see what was fetched.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from sqlalchemy.engine import Engine

from worker_runs.bootstrap import Container, bootstrap

PAGE_SIZE = (1200, 1600)
#: IIIF 2 servers in the tests advertise no size limit; IIIF 3 ones a generous one
MAX_SIZE_V3 = 4000

IMAGE_RE = re.compile(
    r"^/iiif/(?P<version>[23])/(?P<name>[^/]+)/(?P<region>[^/]+)/(?P<size>[^/]+)/(?P<rotation>[^/]+)/default\.jpg$"
)


def draw_page(size: tuple[int, int] = PAGE_SIZE) -> Image.Image:
    """A page: white paper, a dark frame and twelve dark "text lines"."""
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    width, height = size
    draw.rectangle([10, 10, width - 11, height - 11], outline="black", width=4)
    for line in range(12):
        top = 150 + line * 110
        draw.rectangle([100, top, width - 100, top + 40], fill=(30, 30, 30))
    return page


def info_v2(base: str, size: tuple[int, int]) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/image/2/context.json",
        "@id": base,
        "protocol": "http://iiif.io/api/image",
        "width": size[0],
        "height": size[1],
        "profile": ["http://iiif.io/api/image/2/level1.json", {"formats": ["jpg"]}],
    }


def info_v3(base: str, size: tuple[int, int]) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": base,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level1",
        "width": size[0],
        "height": size[1],
        "maxWidth": MAX_SIZE_V3,
    }


def _crop(page: Image.Image, region: str, size: str) -> Image.Image:
    if region in ("full", "max"):
        image = page
    elif region == "square":
        side = min(page.size)
        image = page.crop((0, 0, side, side))
    else:
        x, y, w, h = (int(v) for v in region.split(","))
        image = page.crop((x, y, min(x + w, page.width), min(y + h, page.height)))
    if size in ("full", "max"):
        return image
    keep_ratio = size.startswith("!")
    width_text, height_text = size.lstrip("!").split(",")
    if width_text and height_text:
        target = (int(width_text), int(height_text))
        if keep_ratio:
            ratio = min(target[0] / image.width, target[1] / image.height)
            target = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    elif width_text:
        target = (int(width_text), max(1, round(image.height * int(width_text) / image.width)))
    else:
        target = (max(1, round(image.width * int(height_text) / image.height)), int(height_text))
    return image.resize(target)


class IIIFServer:
    def __init__(self) -> None:
        self.pages: dict[str, Image.Image] = {}
        self.requests: list[str] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="iiif", daemon=True)

    def add_page(self, name: str, size: tuple[int, int] = PAGE_SIZE) -> None:
        self.pages[name] = draw_page(size)

    def image_url(self, name: str, version: int = 2) -> str:
        if name not in self.pages:
            self.add_page(name)
        return f"{self.url}/iiif/{version}/{name}"

    # --- answers ----------------------------------------------------------------------------------

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        if path.startswith("/html/"):
            self._send(handler, 200, b"<!doctype html><title>Gallery</title><p>Hello</p>", "text/html")
        elif path.startswith("/hang/"):
            self._stop.wait(60)  # until the server stops: the client must give up first
        elif path.startswith("/huge/"):
            # No Content-Length: the client must count the bytes itself.
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Connection", "close")
            handler.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(5 * 1024 * 1024 * 1024 // len(chunk)):  # "5 GB"
                    if self._stop.is_set():
                        break
                    handler.wfile.write(chunk)
            except OSError:
                pass  # the client hung up: what it should do
        elif path.startswith("/loop/"):
            self._send(handler, 302, b"", "text/plain", {"Location": path})
        elif path.startswith("/moved/"):
            self._send(handler, 301, b"", "text/plain", {"Location": "/iiif/2/" + path[len("/moved/"):]})
        elif (match := re.match(r"^/iiif/([23])/([^/]+)/info\.json$", path)) and match[2] in self.pages:
            version, name = int(match[1]), match[2]
            base = f"{self.url}/iiif/{version}/{name}"
            doc = (info_v2 if version == 2 else info_v3)(base, self.pages[name].size)
            self._send(handler, 200, json.dumps(doc).encode(), "application/json")
        elif (match := IMAGE_RE.match(path)) and match["name"] in self.pages:
            try:
                image = _crop(self.pages[match["name"]], match["region"], match["size"])
            except ValueError:
                self._send(handler, 400, b"bad IIIF request", "text/plain")
                return
            out = io.BytesIO()
            image.save(out, format="JPEG")
            self._send(handler, 200, out.getvalue(), "image/jpeg")
        else:
            self._send(handler, 404, b"not found", "text/plain")

    def __enter__(self) -> IIIFServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def iiif() -> Iterator[IIIFServer]:
    with IIIFServer() as server:
        yield server


@pytest.fixture
def allow_loopback_iiif(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a `worker-runs serve` started after it (README: WORKER_RUNS_IIIF_ALLOW_PRIVATE): the test
    IIIF server is on loopback. Modules request it first with `usefixtures`."""
    monkeypatch.setenv("WORKER_RUNS_IIIF_ALLOW_PRIVATE", "1")



def loopback_container(engine: Engine, tmp_path: Path) -> Container:
    """The app as `WORKER_RUNS_IIIF_ALLOW_PRIVATE=1` builds it: the test IIIF server is on
    loopback. Test modules that create images override their `container` fixture with it."""
    from tests.conftest import settings_for

    settings = dataclasses.replace(settings_for(engine, tmp_path), iiif_allow_private=True)
    return bootstrap(settings, engine=engine)
