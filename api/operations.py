"""Generic responders: an operation row (api/routes.py) that carries its query or its command
builder is served here, so that path, schemas, status and behaviour are declared once.

Three kinds, as the Arkindex operations come:
- `ListOf`: a paginated projection query (page or cursor style, as the query schema says);
- `One`: a projection read of one object (404 when it is missing or not visible);
- `Do`: a command built from the request, answered with the object read back once the
  projections have it (`then`) or from the request and the new ids alone (`answer`).

A query is called as `fn(conn, *args, **filters)` (plus the page window or keyset): `args`
name what the request provides (`actor`, `user_id`, `id`: the path's id, or for a read-back
the new object's id), `filters` the query-string fields passed on by name; a field the client
left out is not passed, so the query's own default applies.

Resources stay hand-written only where behaviour differs (get-or-create, the caller as
authenticated, a run's results with its summary, SSE, feed caching, webhooks, sign-in); they
may mix with generic operations on the same route (`attach` fills the methods a resource does
not define).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import falcon

from api.base_resources import CommandResource, Present, same
from api.gateway import CommandGateway
from api.reads import ReadModels
from commands.bus import CommandResult
from commands.messages import Command
from domain.actor import Actor
from projections.queries import CATALOG

if TYPE_CHECKING:
    from api.route_table import Operation, Route

Responder = Callable[..., None]


@dataclass(frozen=True)
class Call:
    """One request as a generic operation sees it, validated by the edge middleware."""

    actor: Actor
    query: Mapping[str, Any]
    body: Mapping[str, Any]
    #: the path's fields (Falcon's names), as the domain's string ids
    params: Mapping[str, str]

    @property
    def id(self) -> str:
        return self.params["id"]

    def id_of(self, name: str) -> str | None:
        """A UUID field of the body as the domain's string id (None kept)."""
        value = self.body.get(name)
        return None if value is None else str(value)

    @classmethod
    def of(cls, req: falcon.Request, params: Mapping[str, Any]) -> Call:
        return cls(
            actor=req.context.identity.actor, query=req.context.query,
            body=getattr(req.context, "body", None) or {},
            params={name: str(value) for name, value in params.items()},
        )


def _arg(call: Call, name: str, object_id: str | None) -> Any:
    if name == "actor":
        return call.actor
    if name == "user_id":
        return call.actor.user_id
    if name == "id":
        return call.id if object_id is None else object_id
    return call.params[name]


@dataclass(frozen=True)
class _Query:
    fn: Callable[..., Any]
    args: tuple[str, ...] = ("actor", "id")
    filters: tuple[str, ...] = ()
    present: Present = same

    def call(self, conn: Any, call: Call, object_id: str | None = None, **extra: Any) -> Any:
        args = [_arg(call, name, object_id) for name in self.args]
        filters = {name: call.query[name] for name in self.filters if name in call.query}
        return self.fn(conn, *args, **filters, **extra)


@dataclass(frozen=True)
class ListOf(_Query):
    """A list: `fn(...)` returns a page (or a keyset page for cursor-style operations), None
    when the parent is not visible (404)."""


@dataclass(frozen=True)
class One(_Query):
    """One object: `fn(...)` returns its row, None when missing or not visible (404)."""

    missing: str = "Not found."


@dataclass(frozen=True)
class Do:
    """A command. Answered with the object read back by `then` (its id from `result.data[created]`,
    or the path's id), waiting for the projections `waits`; or, when nothing needs reading back
    (bulk imports never wait), with `answer(command, result)`."""

    build: Callable[[Call], Command]
    created: str | None = None
    then: One | None = None
    answer: Callable[[Any, CommandResult], Any] | None = None
    waits: tuple[str, ...] = (CATALOG,)
    #: the id is the first of a list in `result.data[created]` (the bulk command, used for one)
    first: bool = False


Serve = ListOf | One | Do


class Served(CommandResource):
    """A route whose every operation is generic: its responders come from its rows."""

    def __init__(self, commands: CommandGateway, reads: ReadModels) -> None:
        super().__init__(commands, reads)


def attach(resource: object, route: Route) -> None:
    """Give `resource` a responder for each generic operation of `route` it does not define."""
    for op in route.operations:
        name = f"on_{op.method.lower()}"
        if op.serve is None or hasattr(type(resource), name):
            continue
        if not isinstance(resource, CommandResource):
            raise TypeError(f"{route.path}: generic operations need a resource with reads and commands")
        setattr(resource, name, _responder(resource, op, op.serve))


def _responder(resource: CommandResource, op: Operation, serve: Serve) -> Responder:
    schema = op.response
    assert schema is not None, f"{op.operation_id}: a generic operation documents its response"

    if isinstance(serve, ListOf):
        def list_(req: falcon.Request, resp: falcon.Response, **params: Any) -> None:
            call = Call.of(req, params)
            if op.cursor_paginated:
                resource._cursor_list(
                    req, resp, lambda conn, **keyset: serve.call(conn, call, **keyset), serve.present, schema,
                )
            else:
                resource._list(
                    req, resp, lambda conn, **window: serve.call(conn, call, **window), serve.present, schema,
                )

        return list_

    if isinstance(serve, One):
        def get(req: falcon.Request, resp: falcon.Response, **params: Any) -> None:
            call = Call.of(req, params)
            resource._one(resp, lambda conn: serve.call(conn, call), serve.present, schema, serve.missing)

        return get

    def do(req: falcon.Request, resp: falcon.Response, **params: Any) -> None:
        call = Call.of(req, params)
        command = serve.build(call)
        # A signing run travels on the command itself (commands.messages.SignedByRun).
        result = resource.commands.run(req, resp, command)
        if serve.then is None:
            resp.status = falcon.code_to_http_status(op.status)
            answer = serve.answer(command, result) if serve.answer is not None else None
            if answer is not None:
                resp.media = schema.dump(answer)
            return
        object_id = _created(serve, call, result)
        then = serve.then
        resource._written(
            resp, result, op.status, object_id, lambda conn: then.call(conn, call, object_id), then.present,
            schema, names=serve.waits,
        )

    return do


def _created(serve: Do, call: Call, result: CommandResult) -> str:
    if serve.created is None:
        return call.id
    value = result.data[serve.created]
    return str(value[0] if serve.first else value)

