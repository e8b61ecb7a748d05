"""Read an image's size from its IIIF server: `GET <image url>/info.json` (IIIF Image API 2 and 3).

This is a server-side request to a URL a user typed, so it goes through the webhook address
guard (integrations/urlguard.py): the host is resolved once, every address must be public
(unless WORKER_RUNS_IIIF_ALLOW_PRIVATE=1), and the connection goes to exactly those addresses
(no second resolution for DNS rebinding to exploit). Redirects are followed by hand, each hop
checked again, at most `max_redirects` and never twice to the same URL. The body is capped
(`max_bytes`) and the whole exchange bounded in time (`timeout`), so a hostile or broken server
costs one bounded request. Every failure is an `ImageNotReachable` naming the URL (a 400).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from domain.image import ImageNotReachable
from integrations.delivery import _PinnedAdapter
from integrations.errors import WebhookUrlRefused
from integrations.urlguard import Resolver, Target, pin, resolve

ALLOW_PRIVATE_SWITCH = "WORKER_RUNS_IIIF_ALLOW_PRIVATE=1"
REDIRECTS = (301, 302, 303, 307, 308)
IMAGE_API_CONTEXTS = {
    "http://iiif.io/api/image/2/context.json": 2,
    "http://iiif.io/api/image/3/context.json": 3,
}


@dataclass(frozen=True)
class IIIFInfo:
    """What an image's info.json tells: its size, the API version, the server's size limits."""

    width: int
    height: int
    version: int
    max_width: int | None = None
    max_height: int | None = None


class InfoFetcher(Protocol):
    """`image url -> IIIFInfo`, raising ImageNotReachable (tests inject fakes)."""

    def __call__(self, image_url: str) -> IIIFInfo: ...


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _version(doc: dict[str, Any]) -> int | None:
    contexts = doc.get("@context")
    for context in contexts if isinstance(contexts, list) else [contexts]:
        if isinstance(context, str) and context in IMAGE_API_CONTEXTS:
            return IMAGE_API_CONTEXTS[context]
    # Some v2 servers omit the context but keep the protocol; v3 names its service type.
    if doc.get("type") == "ImageService3":
        return 3
    if doc.get("protocol") == "http://iiif.io/api/image":
        return 2
    return None


def parse_info(doc: Any, info_url: str) -> IIIFInfo:
    """A IIIF Image API 2 or 3 info.json document -> IIIFInfo, or ImageNotReachable."""
    if not isinstance(doc, dict):
        raise ImageNotReachable(f"{info_url} is not a IIIF info.json document (not a JSON object).")
    version = _version(doc)
    if version is None:
        raise ImageNotReachable(
            f"{info_url} is not a IIIF Image API 2 or 3 info.json (no IIIF image context)."
        )
    width, height = _positive_int(doc.get("width")), _positive_int(doc.get("height"))
    if width is None or height is None:
        raise ImageNotReachable(f"{info_url} gives no positive integer width and height.")
    if version == 3:
        limits: dict[str, Any] = doc
    else:
        # IIIF 2: the limits are in the profile's description objects (after the compliance URI).
        profile = doc.get("profile")
        limits = {}
        for item in profile if isinstance(profile, list) else []:
            if isinstance(item, dict):
                limits.update({k: item[k] for k in ("maxWidth", "maxHeight") if k in item})
    max_width, max_height = _positive_int(limits.get("maxWidth")), _positive_int(limits.get("maxHeight"))
    if max_width is not None and max_height is None:
        max_height = max_width  # the spec: maxHeight defaults to maxWidth
    return IIIFInfo(width, height, version, max_width, max_height)


class IIIFInfoClient:
    """The production InfoFetcher, built once in worker_runs.bootstrap from the settings."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        max_bytes: int = 1024 * 1024,
        max_redirects: int = 5,
        resolver: Resolver = resolve,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.resolver = resolver

    def __call__(self, image_url: str) -> IIIFInfo:
        info_url = f"{image_url}/info.json"
        deadline = time.monotonic() + self.timeout
        url, seen = info_url, {info_url}
        for _hop in range(self.max_redirects + 1):
            status, location, body = self._get(url, info_url, deadline)
            if status in REDIRECTS:
                if not location:
                    raise ImageNotReachable(f"{info_url}: a redirect without a Location header.")
                url = urljoin(url, location)
                if url in seen:
                    raise ImageNotReachable(f"{info_url}: the server redirects in a loop ({url}).")
                seen.add(url)
                continue
            if status != 200:
                raise ImageNotReachable(f"{info_url} answered HTTP {status}, not a IIIF info.json.")
            try:
                doc = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise ImageNotReachable(
                    f"{info_url} did not answer JSON: is this a IIIF image server?"
                ) from None
            return parse_info(doc, info_url)
        raise ImageNotReachable(f"{info_url}: more than {self.max_redirects} redirects.")

    def _get(self, url: str, info_url: str, deadline: float) -> tuple[int, str | None, bytes]:
        try:
            target = pin(url, allow_private=self.allow_private, resolver=self.resolver)
        except WebhookUrlRefused as exc:
            message = exc.message.replace("WORKER_RUNS_WEBHOOK_ALLOW_PRIVATE=1", ALLOW_PRIVATE_SWITCH)
            if url != info_url:
                message = f"redirected to {url}: {message}"
            raise ImageNotReachable(f"Cannot fetch {info_url}: {message}") from None
        if not target.addresses:
            raise ImageNotReachable(f"Cannot fetch {info_url}: the host does not resolve.")
        last_error = "no address answered"
        for address in target.addresses:
            if time.monotonic() >= deadline:
                break
            try:
                return self._get_from(target, address, url, info_url, deadline)
            except requests.Timeout:
                raise ImageNotReachable(
                    f"{info_url} did not answer within {self.timeout:g} seconds."
                ) from None
            except requests.RequestException as exc:
                # A refused connection: the next address may answer (a read cut short too,
                # which is harmless for a GET).
                last_error = f"connection failed ({type(exc).__name__})"
        if time.monotonic() >= deadline:
            raise ImageNotReachable(f"{info_url} did not answer within {self.timeout:g} seconds.")
        raise ImageNotReachable(f"Cannot fetch {info_url}: {last_error}.")

    def _get_from(
        self, target: Target, address: str, url: str, info_url: str, deadline: float,
    ) -> tuple[int, str | None, bytes]:
        parts = urlsplit(url)
        host = f"[{address.replace('%', '%25')}]" if ":" in address else address
        pinned = urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path, parts.query, ""))
        with requests.Session() as session:
            # No proxies or .netrc: a proxy would resolve the name itself, past the guard.
            session.trust_env = False
            session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            session.mount(f"{target.scheme}://", _PinnedAdapter(target.hostname))
            remaining = max(deadline - time.monotonic(), 0.001)
            with session.get(
                pinned,
                headers={"Host": parts.netloc, "Accept": "application/ld+json, application/json"},
                timeout=remaining,
                allow_redirects=False,  # followed by hand, each hop checked by the guard
                stream=True,
            ) as reply:
                if reply.status_code in REDIRECTS:
                    return reply.status_code, reply.headers.get("Location"), b""
                declared = reply.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise self._too_big(info_url)
                body = bytearray()
                for chunk in reply.iter_content(64 * 1024):
                    body.extend(chunk)
                    if len(body) > self.max_bytes:
                        raise self._too_big(info_url)
                    if time.monotonic() > deadline:
                        raise ImageNotReachable(
                            f"{info_url} did not answer within {self.timeout:g} seconds."
                        )
                return reply.status_code, None, bytes(body)

    def _too_big(self, info_url: str) -> ImageNotReachable:
        return ImageNotReachable(
            f"{info_url} answered more than {self.max_bytes // 1024} KiB: not a IIIF info.json."
        )
