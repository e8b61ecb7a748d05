"""Falcon resources of the element tree (issue 10 B): links between elements
(CreateElementParent, CreateElementChildren) and the element listings (ListElements,
ListElementChildren, ListElementParents) with the filters the Arkindex clients send."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from uuid import UUID

import falcon

from api import document_presenters as p
from api import element_tree_schemas as ts
from api import pagination
from api.errors import not_found
from api.operations import Call
from api.resources import _actor, _Resource
from commands import element_tree_messages as tm
from commands.bus import CommandResult
from projections import document_queries as dq
from projections import element_tree_queries as tq
from projections.queries import Page, Row


def _filters(query: Mapping[str, Any]) -> tq.ElementFilters:
    return tq.ElementFilters(
        type=query.get("type"),
        name=query.get("name"),
        folder=query.get("folder"),
        top_level=query.get("top_level"),
        worker_run=query.get("worker_run"),
        transcription_worker_run=query.get("transcription_worker_run"),
    )


def _present(conn: Any, rows: Sequence[Row], query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Elements as the listings show them, with what the `with_*` options ask for."""
    ids = [row["element_id"] for row in rows]
    classes = dq.element_classifications(conn, ids)
    parents_of = tq.with_children(conn, ids) if query.get("with_has_children") else set()
    metadata = tq.metadata_of(conn, ids) if query.get("with_metadata") else {}
    results = []
    for row in rows:
        element = p.element(row, classes[row["element_id"]])
        if query.get("with_zone") is False:
            element["zone"] = None
        if query.get("with_classes"):
            element["classes"] = element["classifications"]
        if query.get("with_has_children"):
            element["has_children"] = row["element_id"] in parents_of
        if query.get("with_metadata"):
            element["metadata"] = metadata[row["element_id"]]
        results.append(element)
    return results


class _ElementListResource(_Resource):
    def _elements(self, req: falcon.Request, resp: falcon.Response, fetch: Any) -> None:
        query = req.context.query
        win = pagination.window(query)
        with self.reads.connection() as conn:
            page: Page | None = fetch(conn, _filters(query), offset=win.offset, limit=win.size)
            if page is None:
                raise not_found()
            results = ts.listed_element_schema.dump(_present(conn, page.rows, query), many=True)
        resp.media = pagination.page_body(req, win, page.count, results)


class CorpusElementsResource(_ElementListResource):
    """ListElements: the elements of a corpus (path parameter published as `corpus`)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        actor = _actor(req)
        self._elements(req, resp, lambda conn, f, **w: tq.list_elements(conn, actor, str(id), f, **w))


class _ElementRelativesResource(_ElementListResource):
    """An element's relatives one step away along the tree (every step with `recursive`)."""

    listing: ClassVar[Callable[..., Page | None]]

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        actor, recursive = _actor(req), req.context.query.get("recursive", False)
        listing = type(self).listing
        self._elements(
            req, resp, lambda conn, f, **w: listing(conn, actor, str(id), f, recursive=recursive, **w),
        )


class ElementChildrenResource(_ElementRelativesResource):
    listing = staticmethod(tq.list_children)


class ElementParentsResource(_ElementRelativesResource):
    listing = staticmethod(tq.list_parents)


def create_element_parent(call: Call) -> tm.CreateElementParent:
    """CreateElementParent (path published as `{child}/parent/{parent}`)."""
    return tm.CreateElementParent(child_id=call.id, parent_id=call.params["parent"])


def created_parent(command: tm.CreateElementParent, result: CommandResult) -> dict[str, Any]:
    return {"child": command.child_id, "parent": command.parent_id}


def create_element_children(call: Call) -> tm.CreateElementChildren:
    """CreateElementChildren: link many elements under one parent, in one transaction."""
    return tm.CreateElementChildren(parent_id=call.id, child_ids=tuple(str(c) for c in call.body["children"]))


def created_children(command: tm.CreateElementChildren, result: CommandResult) -> dict[str, Any]:
    return {"children": list(command.child_ids)}
