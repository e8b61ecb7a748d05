"""IIIF images and their servers (issue 10): `ImageServer` (stream `image-server-<uuid>`) and
`Image` (stream `image-<uuid>`), plus the pure geometry of zones (an element's polygon on an
image, and the IIIF URL that crops it).

An image is found by its URL (one image per URL, like Arkindex); a server by the URL prefix its
images share. Both lookups are aliases claimed with the events (commands/image_handlers.py), so
two racing creations of the same URL end as one image and one "already exists" answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.aggregate import Aggregate
from domain.errors import AlreadyExists, DomainError, InvalidValue
from domain.events import ImageCreated, ImageServerCreated, ImageStatusUpdated

IMAGE_STATUSES = ("checked", "unchecked", "error")
IIIF_VERSIONS = (2, 3)
#: above this a polygon is not a page region but a mistake (or an attack on the read model)
MAX_POLYGON_POINTS = 10_000
#: image sides are stored as 32-bit integers
MAX_SIDE = 2**31 - 1


def image_stream(image_id: str) -> str:
    return f"image-{image_id}"


def image_server_stream(server_id: str) -> str:
    return f"image-server-{server_id}"


def url_key(url: str) -> str:
    """A fixed-length key of a URL, for aliases (at most 300 characters; URLs are longer)."""
    return hashlib.sha256(url.encode()).hexdigest()


class ImageAlreadyExists(AlreadyExists):
    """One image per URL. The Arkindex CLI reads the existing image's id from the 400 body's
    `id` key (then calls RetrieveImage); the API adds it beside `existing_id`."""

    field = "url"


class ImageNotReachable(DomainError):
    """The IIIF server could not tell the image's size: unreachable, not IIIF, too slow, too
    big, or refused by the address guard. The message names the URL."""

    code = "invalid"
    field = "url"


def normalize_image_url(url: str) -> str:
    """The image's IIIF base URL: no trailing slash, no `/info.json` (both are common when
    copying a URL from a viewer)."""
    url = url.strip()
    if url.endswith("/info.json"):
        url = url[: -len("/info.json")]
    url = url.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidValue("The image URL must be http:// or https:// with a host.", field="url")
    if parts.query or parts.fragment:
        raise InvalidValue("A IIIF image URL has no query string or fragment.", field="url")
    if parts.path.strip("/") == "":
        raise InvalidValue("The image URL must name an image on the server (a path).", field="url")
    return url


def server_url_candidates(url: str) -> list[str]:
    """The URL prefixes an existing server of this image may have, longest first:
    `https://h/iiif/2/a/b` -> `https://h/iiif/2/a`, `https://h/iiif/2`, `https://h/iiif`, `https://h`."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    segments = parts.path.strip("/").split("/")
    return [
        "/".join([origin, *segments[:end]]) for end in range(len(segments) - 1, -1, -1)
    ]


def new_server_url(url: str) -> str:
    """A new server's URL: the image URL without its last segment (the image identifier)."""
    return server_url_candidates(url)[0]


def check_size(width: object, height: object) -> tuple[int, int]:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIDE:
            raise InvalidValue(f"The image {name} must be a positive integer.", field=name)
    assert isinstance(width, int) and isinstance(height, int)
    return width, height


class ImageServer(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.server_id = ""
        self.url = ""
        # not `version`: that is the aggregate's stream version
        self.iiif_version = 2

    def create(
        self, *, server_id: str, url: str, display_name: str, version: int, max_width: int | None,
        max_height: int | None,
    ) -> None:
        if self.exists:
            return
        if version not in IIIF_VERSIONS:
            raise InvalidValue("Only IIIF Image API 2 and 3 servers are supported.", field="url")
        self._record(ImageServerCreated(
            server_id=server_id, url=url, display_name=display_name, version=version,
            max_width=max_width, max_height=max_height,
        ))

    def when_ImageServerCreated(self, e: ImageServerCreated) -> None:
        self.server_id, self.url, self.iiif_version = e.server_id, e.url, e.version


class Image(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.image_id = ""
        self.url = ""
        self.width = 0
        self.height = 0
        self.status = ""

    def create(
        self, server: ImageServer, *, image_id: str, url: str, width: object, height: object, status: str,
        user_id: str,
    ) -> None:
        if self.exists:
            return
        if not server.exists or not url.startswith(server.url + "/"):
            raise InvalidValue("The image URL is not on this image server.", field="url")
        checked_width, checked_height = check_size(width, height)
        self._check_status(status)
        self._record(ImageCreated(
            image_id=image_id, server_id=server.server_id, url=url, path=url[len(server.url) + 1:],
            width=checked_width, height=checked_height, status=status, user_id=user_id,
        ))

    def update_status(self, status: str) -> None:
        self._check_status(status)
        if status != self.status:
            self._record(ImageStatusUpdated(image_id=self.image_id, status=status))

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in IMAGE_STATUSES:
            raise InvalidValue(f"status must be one of {', '.join(IMAGE_STATUSES)}.", field="status")

    def when_ImageCreated(self, e: ImageCreated) -> None:
        self.image_id, self.url, self.width, self.height, self.status = (
            e.image_id, e.url, e.width, e.height, e.status,
        )

    def when_ImageStatusUpdated(self, e: ImageStatusUpdated) -> None:
        self.status = e.status


# --- zones: a polygon on an image --------------------------------------------------------------


def _coordinate(value: object) -> int:
    # Integral floats (10.0, as JSON encoders of numpy values send them) are integers; 10.5 is not.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue("Polygon points are pairs of integers.", field="polygon")
    if isinstance(value, float) and not value.is_integer():
        raise InvalidValue(f"Polygon coordinates must be integers, not {value}.", field="polygon")
    return int(value)


def normalize_polygon(polygon: object, width: int, height: int, field: str = "polygon") -> list[list[int]]:
    """A valid polygon on a `width` x `height` image, closed (first point repeated last).

    At least three distinct points, integer coordinates, every point inside the image
    (0 <= x <= width, 0 <= y <= height: the full-page polygon ends on the image's edges), and a
    bounding box with an area (its IIIF crop must be a region).
    """
    if not isinstance(polygon, list | tuple):
        raise InvalidValue("A polygon is a list of [x, y] points.", field=field)
    if len(polygon) > MAX_POLYGON_POINTS:
        raise InvalidValue(f"A polygon has at most {MAX_POLYGON_POINTS} points.", field=field)
    points: list[list[int]] = []
    for point in polygon:
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise InvalidValue("Polygon points are pairs of integers.", field=field)
        try:
            x, y = _coordinate(point[0]), _coordinate(point[1])
        except InvalidValue as exc:
            raise InvalidValue(exc.message, field=field) from None
        if not (0 <= x <= width and 0 <= y <= height):
            raise InvalidValue(
                f"The point [{x}, {y}] is outside the image ({width} x {height}).", field=field,
            )
        points.append([x, y])
    if len({(x, y) for x, y in points}) < 3:
        raise InvalidValue("A polygon needs at least three distinct points.", field=field)
    if points[0] != points[-1]:
        points.append(list(points[0]))
    box = bounding_box(points)
    if box.width == 0 or box.height == 0:
        raise InvalidValue("A polygon must cover an area (its points are on one line).", field=field)
    return points


def full_image_polygon(width: int, height: int) -> list[list[int]]:
    return [[0, 0], [0, height], [width, height], [width, 0], [0, 0]]


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


def bounding_box(polygon: list[list[int]]) -> Box:
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def zone_url(image_url: str, polygon: list[list[int]], version: int = 2) -> str:
    """The IIIF Image API URL of the polygon's bounding box: what `element.open_image()` of
    base-worker downloads (it swaps the size segment when it resizes). IIIF 3 removed the
    `full` size; `max` is its name there."""
    box = bounding_box(polygon)
    size = "max" if version == 3 else "full"
    return f"{image_url}/{box.x},{box.y},{box.width},{box.height}/{size}/0/default.jpg"
