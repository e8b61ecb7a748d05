"""The element tree (issue 10 B): the command builders of the links between elements
(CreateElementParent, CreateElementChildren) and the queries of the element listings
(ListElements, ListElementChildren, ListElementParents) with the filters the Arkindex clients
send, served by the generic responders (api/operations.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.documents import presenters as p
from api.operations import Call
from commands import element_tree_messages as tm
from commands.bus import CommandResult
from domain.actor import Actor
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


#: the query-string fields the element listings read: the filters and the `with_*` options
LISTING = (
    "type", "name", "folder", "top_level", "worker_run", "transcription_worker_run",
    "with_classes", "with_has_children", "with_metadata", "with_zone",
)


@dataclass(frozen=True)
class Listed:
    """A page of elements as the listings show them (a `Page` of presented rows)."""

    count: int
    rows: list[dict[str, Any]]


def _listed(conn: Any, page: Page | None, query: Mapping[str, Any]) -> Listed | None:
    """Presented in the same connection: the `with_*` options read more per page."""
    return None if page is None else Listed(count=page.count, rows=_present(conn, page.rows, query))


def corpus_elements(
    conn: Any, actor: Actor, corpus_id: str, *, offset: int, limit: int, **query: Any,
) -> Listed | None:
    """ListElements: the elements of a corpus (path parameter published as `corpus`)."""
    page = tq.list_elements(conn, actor, corpus_id, _filters(query), offset=offset, limit=limit)
    return _listed(conn, page, query)


def _related(fetch: Callable[..., Page | None]) -> Callable[..., Listed | None]:
    """ListElementChildren / ListElementParents: `recursive` goes through any parent."""

    def listing(
        conn: Any, actor: Actor, element_id: str, *, offset: int, limit: int, recursive: bool = False,
        **query: Any,
    ) -> Listed | None:
        filters = _filters(query)
        page = fetch(conn, actor, element_id, filters, recursive=recursive, offset=offset, limit=limit)
        return _listed(conn, page, query)

    return listing


element_children = _related(tq.list_children)
element_parents = _related(tq.list_parents)


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
