"""Page-number pagination exactly as arkindex-api.md §3.

The official client asks for page 1, computes ceil(count / len(results)) and then requests
pages 2..N directly, so: `count` is exact, a page size is stable, `next` is null on the last
page, and a page past the end is a 404 in the standard error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import falcon

from api.errors import not_found
from api.schemas import DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class Window:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def window(query: Mapping[str, Any]) -> Window:
    return Window(page=query.get("page") or 1, size=query.get("page_size") or DEFAULT_PAGE_SIZE)


def _page_url(req: falcon.Request, page: int) -> str:
    params = {key: value for key, value in req.params.items() if key != "page"}
    if page > 1:
        params["page"] = str(page)
    query = urlencode(params, doseq=True)
    return f"{req.prefix}{req.path}" + (f"?{query}" if query else "")


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
