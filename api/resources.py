"""Falcon resources of the catalog and the runs, and the command builders of their generic
operations (api/operations.py serves those from their rows in api/routes.py; the resources
here answer what behaves differently: get-or-create, the caller as authenticated).

Collaborators are injected in __init__.

By the time a responder runs, the edge middleware (api/middleware.py) has authenticated the
caller (`req.context.identity`), validated the query (`req.context.query`) and body
(`req.context.body`) with the schemas the route table declares, and, for reads, waited for
the projections to include the caller's writes. A responder turns that into one command
(commands in) or one query (projections out) and shapes the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import falcon
import sqlalchemy as sa
import structlog
from marshmallow import Schema

from api import after_commit, pagination
from api import schemas as s
from api.errors import invalid, not_found
from api.gateway import CommandGateway
from api.reads import ReadModels
from commands import messages as m
from commands.bus import CommandResult
from domain import published
from domain.actor import Actor, slugify
from projections import queries as q
from projections.queries import CATALOG, USER_RUNS

if TYPE_CHECKING:  # api/operations.py builds on the resources below
    from api.operations import Call

Present = Callable[[Any], dict[str, Any]]
log = structlog.get_logger(__name__)


def _same(row: Any) -> Any:
    """No presenter: the response schema reads the row itself (api/row_fields.py)."""
    return row


def _actor(req: falcon.Request) -> Actor:
    return req.context.identity.actor


def _ids(body: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """UUID fields of a loaded body -> strings (the domain's ids), None kept."""
    return {name: (str(body[name]) if body.get(name) is not None else None) for name in names}


class _Resource:
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


class _CommandResource(_Resource):
    def __init__(self, commands: CommandGateway, reads: ReadModels) -> None:
        super().__init__(reads)
        self.commands = commands


# --- workers ---------------------------------------------------------------------------------


class WorkersResource(_CommandResource):
    """CreateWorker is get-or-create (ListWorkers is generic: api/routes.py)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        result = self.commands.run(req, resp, m.CreateWorker(
            name=body["name"], slug=body.get("slug") or _slug_from(body["name"]), type=body["type"],
            description=body.get("description", ""), repository_url=body.get("repository_url"),
        ))
        worker_id = result.data["worker_id"]
        # Get-or-create (the CLI relies on it): 201 when created, 200 for the existing worker.
        status = 201 if result.data.get("created") else 200
        self._written(
            resp, result, status, worker_id, lambda conn: q.get_worker(conn, _actor(req), worker_id),
            _same, s.worker_schema,
        )


def _slug_from(name: str) -> str:
    """CreateWorker without a slug: derive it from the name (Arkindex requires one; a UI
    or script that omits it still gets a stable get-or-create key)."""
    slug = slugify(name)[:100].strip("-")
    if not slug:
        raise invalid(
            ["slug"], "This name has no letter or digit to derive a slug from: give a slug.", "required",
        )
    return slug


# --- command builders: request (validated body, path) -> command, for the generic responders


def update_worker(call: Call) -> m.UpdateWorker:
    return m.UpdateWorker(worker_id=call.id, changes=dict(call.body))


def create_worker_version(call: Call) -> m.CreateWorkerVersion:
    return m.CreateWorkerVersion(worker_id=call.id, fields=dict(call.body))


def update_worker_version(call: Call) -> m.UpdateWorkerVersion:
    return m.UpdateWorkerVersion(version_id=call.id, changes=dict(call.body))


def create_worker_configuration(call: Call) -> m.CreateWorkerConfiguration:
    body = call.body
    return m.CreateWorkerConfiguration(
        worker_id=call.id, name=body["name"], configuration=body["configuration"],
        secret_keys=list(body.get("secret_keys", [])),
    )


def create_model(call: Call) -> m.CreateModel:
    return m.CreateModel(name=call.body["name"], description=call.body.get("description", ""))


def create_model_version(call: Call) -> m.CreateModelVersion:
    body = call.body
    return m.CreateModelVersion(
        model_id=call.id, configuration=body.get("configuration", {}), tag=body.get("tag"),
    )


def create_user_run(call: Call) -> m.CreateUserRun:
    return m.CreateUserRun(
        **_ids(call.body, "worker_version_id", "configuration_id", "model_version_id"),
        summary=call.body.get("summary") or None,
    )


# --- user worker runs ------------------------------------------------------------------------


class QuickUserWorkerRunResource(_CommandResource):
    """Issue 14, the one-step run: worker, version and run in one command (QuickUserRun)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        result = self.commands.run(req, resp, m.QuickUserRun(
            name=body["name"], type=body.get("type") or "worker", slug=body.get("slug"),
            docker_image_iid=body.get("docker_image_iid") or None,
            revision_url=body.get("revision_url") or None, repository_url=body.get("repository_url") or None,
        ))
        run_id = result.data["run_id"]
        # 201 for a new run, 200 when the version already had the caller's run (a repeat).
        self._written(
            resp, result, 201 if result.data["run_created"] else 200, run_id,
            lambda conn: q.get_user_run(conn, _actor(req), run_id),
            _same, s.worker_run_schema, names=(CATALOG, USER_RUNS),
        )


#: base-worker prints this when its start-up (RetrieveWorkerRun) fails: say why it may happen
RUN_NOT_FOUND = (
    "No such worker run for this API token. User worker runs are personal: only the user who "
    "created the run may use it (check ARKINDEX_API_TOKEN and ARKINDEX_WORKER_RUN_ID)."
)


# --- users -----------------------------------------------------------------------------------


class UserResource:
    """RetrieveUser: the caller, as authenticated (the event store is the authority on
    identities; a user registered a moment ago is not necessarily projected yet)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        identity = req.context.identity
        resp.media = s.user_schema.dump(published.user(
            identity.actor.user_id, identity.username, identity.email, identity.actor.is_admin,
        ))
