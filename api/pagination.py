"""The two pagination styles of arkindex-api.md §3.

Page-number style (workers, versions, runs...): the official client asks for page 1,
computes ceil(count / len(results)) and then requests pages 2..N directly, so: `count` is
exact, a page size is stable, `next` is null on the last page, and a page past the end is a
404 in the standard error shape.

Cursor style (lists that grow while clients page through them, such as the provenance
listings): the client follows the `cursor` of `next` until it is null. A cursor is the sort
key of the row a page starts beyond (keyset pagination, never OFFSET), so rows appended
meanwhile cannot make a client skip or repeat anything. It is opaque to clients: urlsafe
base64 of `{"k": [sort key...], "d": "next"|"prev"}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import falcon

from api.errors import not_found
from projections.queries import Keyset, KeysetPage

#: page sizes above this are refused: an exact count and a stable page both get expensive
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 20
#: a genuine cursor is well under this; anything longer is refused before decoding
MAX_CURSOR_LENGTH = 1024
#: bounds of a sort-key integer (event positions are BIGINT): larger would be a 500 in SQL
_BIGINT = 2**63 - 1
_MAX_KEY_TEXT = 255


# --- page-number style -----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def window(query: Mapping[str, Any]) -> Window:
    win = Window(page=query.get("page") or 1, size=query.get("page_size") or DEFAULT_PAGE_SIZE)
    if win.offset > _BIGINT:  # no listing is that long, and SQL cannot even take the OFFSET
        raise not_found("Invalid page.")
    return win


def _url(req: falcon.Request, params: dict[str, Any]) -> str:
    query = urlencode(params, doseq=True)
    return f"{req.prefix}{req.path}" + (f"?{query}" if query else "")


def _page_url(req: falcon.Request, page: int) -> str:
    params = {key: value for key, value in req.params.items() if key != "page"}
    if page > 1:
        params["page"] = str(page)
    return _url(req, params)


def page_body(req: falcon.Request, win: Window, count: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The page body, or a 404 for a page past the end (page 1 always exists, even empty)."""
    if win.page > 1 and win.offset >= count:
        raise not_found("Invalid page.")
    has_next = win.offset + len(results) < count
    return {
        "count": count,
        "next": _page_url(req, win.page + 1) if has_next else None,
        "previous": _page_url(req, win.page - 1) if win.page > 1 else None,
        "number": win.page,
        "results": results,
    }


# --- cursor style ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A decoded cursor: read beyond the row with sort key `key`, forwards or backwards."""

    key: tuple[Any, ...]
    backwards: bool = False


class InvalidCursor(ValueError):
    pass


def encode_cursor(key: Sequence[Any], *, backwards: bool) -> str:
    payload = json.dumps({"k": list(key), "d": "prev" if backwards else "next"}, separators=(",", ":"))
    # Padding stripped: `=` would be percent-encoded in every link for nothing.
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _key_value(value: Any, expected: type) -> Any:
    # bool is an int to Python, never a sort key; the bounds keep SQL from failing (a 500).
    if expected is int and isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _BIGINT:
        return value
    if expected is str and isinstance(value, str) and len(value) <= _MAX_KEY_TEXT and value.isprintable():
        return value
    raise InvalidCursor


def decode_cursor(text: str, key_types: Sequence[type]) -> Cursor:
    """The cursor a `next`/`previous` link carries, checked against the list's sort key
    types (anything else, tampered or from another list, raises InvalidCursor)."""
    if not text or len(text) > MAX_CURSOR_LENGTH:
        raise InvalidCursor
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        payload = json.loads(raw)
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidCursor from None
    if not isinstance(payload, dict) or set(payload) != {"k", "d"} or payload["d"] not in ("next", "prev"):
        raise InvalidCursor
    key = payload["k"]
    if not isinstance(key, list) or len(key) != len(key_types):
        raise InvalidCursor
    return Cursor(
        tuple(_key_value(value, expected) for value, expected in zip(key, key_types, strict=True)),
        backwards=payload["d"] == "prev",
    )


def keyset(query: Mapping[str, Any]) -> Keyset:
    """The page a validated cursor query asks for (`cursor` already decoded by its field)."""
    cursor: Cursor | None = query.get("cursor")
    return Keyset(
        after=cursor.key if cursor else None,
        backwards=cursor.backwards if cursor else False,
        limit=query.get("page_size") or DEFAULT_PAGE_SIZE,
        with_count=bool(query.get("with_count")),
    )


def _cursor_url(req: falcon.Request, cursor: str) -> str:
    # `with_count` is dropped: the client asks for the count on the first page only, and
    # counting a large list on every page is what cursor pagination is there to avoid.
    params = {key: value for key, value in req.params.items() if key not in ("cursor", "with_count")}
    params["cursor"] = cursor
    return _url(req, params)


def cursor_body(req: falcon.Request, page: KeysetPage, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The cursor page body; `next` is always present (null on the last page)."""
    next_url = previous_url = None
    if page.rows and page.has_next:
        next_url = _cursor_url(req, encode_cursor(page.key(page.rows[-1]), backwards=False))
    if page.rows and page.has_previous:
        previous_url = _cursor_url(req, encode_cursor(page.key(page.rows[0]), backwards=True))
    return {"next": next_url, "previous": previous_url, "count": page.count, "results": results}
