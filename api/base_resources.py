"""The base of the hand-written Falcon resources and of the generic ones (api/operations.py):
reads of one object or of a page, and the answer of a command with the object it wrote, read
back once the projections have it. Every feature's resources build on these.

Collaborators are injected in __init__.

By the time a responder runs, the edge middleware (api/middleware.py) has authenticated the
caller (`req.context.identity`), validated the query (`req.context.query`) and body
(`req.context.body`) with the schemas the route table declares, and, for reads, waited for
the projections to include the caller's writes. A responder turns that into one command
(commands in) or one query (projections out) and shapes the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon
import sqlalchemy as sa
import structlog
from marshmallow import Schema

from api import after_commit, pagination
from api.errors import not_found
from api.gateway import CommandGateway
from api.reads import ReadModels
from commands.bus import CommandResult
from domain.actor import Actor
from projections import queries as q
from projections.queries import CATALOG

#: what turns a read-model row into what the response schema dumps (usually `same`)
Present = Callable[[Any], Any]
log = structlog.get_logger(__name__)


def same(row: Any) -> Any:
    """No presenter: the response schema reads the row itself (api/row_fields.py)."""
    return row


def actor_of(req: falcon.Request) -> Actor:
    return req.context.identity.actor


class Resource:
    def __init__(self, reads: ReadModels) -> None:
        self.reads = reads

    def _list(
        self, req: falcon.Request, resp: falcon.Response, fetch: Callable[..., q.Page | None],
        present: Present, schema: Schema,
    ) -> None:
        win = pagination.window(req.context.query)
        with self.reads.connection() as conn:
            page = fetch(conn, offset=win.offset, limit=win.size)
        if page is None:
            raise not_found()
        results = schema.dump([present(row) for row in page.rows], many=True)
        resp.media = pagination.page_body(req, win, page.count, results)

    def _cursor_list(
        self, req: falcon.Request, resp: falcon.Response, fetch: Callable[..., q.KeysetPage | None],
        present: Present, schema: Schema,
    ) -> None:
        """A cursor-style list (arkindex-api.md §3): `fetch(conn, keyset=...)` reads one keyset
        page (None: the parent is not visible, 404); the query's schema declares `cursor`."""
        with self.reads.connection() as conn:
            page = fetch(conn, keyset=pagination.keyset(req.context.query))
        if page is None:
            raise not_found()
        results = schema.dump([present(row) for row in page.rows], many=True)
        resp.media = pagination.cursor_body(req, page, results)

    def _one(
        self, resp: falcon.Response, fetch: Callable[[Any], Any], present: Present, schema: Schema,
        missing: str = "Not found.",
    ) -> None:
        with self.reads.connection() as conn:
            row = fetch(conn)
        if row is None:
            raise not_found(missing)
        resp.media = schema.dump(present(row))

    def _written(
        self, resp: falcon.Response, result: CommandResult, status: int, object_id: str,
        fetch: Callable[[Any], Any], present: Present, schema: Schema, names: tuple[str, ...] = (CATALOG,),
    ) -> None:
        """Answer a command with the object it wrote, read back once the projections have it."""
        resp.status = falcon.code_to_http_status(status)
        try:
            fresh = self.reads.wait(resp, result.position, names)
            with self.reads.connection() as conn:
                row = fetch(conn)
        except sa.exc.SQLAlchemyError:
            # Committed, but the database went away before the object could be read back:
            # never an error now (the client would retry and duplicate it), the object as
            # recorded, marked stale (api/after_commit.py).
            log.warning("written_object_unreadable", object_id=object_id, exc_info=True)
            after_commit.mark(resp)
            resp.media = after_commit.recorded_object(resp, object_id, schema)
            return
        if row is None and fresh:
            # The projections passed the write without the object (its event was parked):
            # the answer below is stale too, and must say so.
            self.reads.mark_missing(resp, result.position, names)
        # Past the bounded wait (the response says X-Stale) the object is not readable yet:
        # answer with its id, which is what scripts need to carry on.
        resp.media = schema.dump(present(row)) if row is not None else {"id": object_id}


class CommandResource(Resource):
    def __init__(self, commands: CommandGateway, reads: ReadModels) -> None:
        super().__init__(reads)
        self.commands = commands
