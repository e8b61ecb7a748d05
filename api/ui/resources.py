"""The web UI's pages and htmx fragments (HTML, not part of the OpenAPI document).

Every responder goes through the same collaborators as the JSON API: commands through
api/gateway.CommandGateway (same bus, idempotency, correlation ids, X-Event-Position),
reads through projections/queries.py behind api/reads.ReadModels (same visibility rules,
same read-your-writes wait), validation through the API's marshmallow schemas. The UI adds
only HTML: no business rule lives here.

"No refresh, ever": a command's fragment is rendered only after the projections it shows
have reached the command's position (ReadModels.wait), and it carries out-of-band swaps
for the other parts of the page it changes (the runs list, the workers list, the type
filter). Other tabs learn about changes from the SSE stream (static/app.js).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import falcon
import jinja2
import marshmallow

from api import pagination
from api.auth import Authenticator, Identity
from api.catalog import schemas as s
from api.catalog.resources import _slug_from
from api.documents.provenance import object_provenance
from api.documents.retraction import RETRACTION_READS, counts_sentence
from api.errors import ApiError, error_entry, flatten_messages
from api.gateway import CommandGateway
from api.reads import ReadModels
from api.ui.queries import retracted_among, run_choices, user_runs_by_version
from api.ui.session import CSRF_FIELD, CSRF_HEADER, Session, SessionCodec
from api.users.resources import PasswordSignIn, client_address
from commands import messages as m
from commands.retraction_messages import RetractRun
from commands.tokens import hash_token
from domain.errors import AlreadyExists, DomainError, NotFound, RunAlreadyRetracted, UserRunAlreadyExists
from integrations import audit
from projections import document_queries as dq
from projections import queries as q
from projections.document_queries import DOCUMENTS
from projections.queries import CATALOG, USER_RUNS

RUNS_PAGE_SIZE = 20
WORKERS_PAGE_SIZE = 10
VERSIONS_PAGE_SIZE = 10
#: a run's page (issue 14): objects it signed, and its audit trail, per page
SIGNED_PAGE_SIZE = 20
AUDIT_PAGE_SIZE = 20
#: every worker type fits in the filter's select (types are few; the API pages them by 500 at most)
TYPES_LIMIT = pagination.MAX_PAGE_SIZE
SIGN_IN = "/sign-in"
#: A form shown again with its field errors is a normal answer of the page, not a failed request:
#: 200, so the browser does not log it as an error in the console (the browser tests fail on any).
FORM_AGAIN = 200
HOME = "/worker-runs"
#: why the sign-in page is shown (`?reason=`): a fixed text per reason, never text from the URL
SIGN_IN_NOTICES = {
    "signed-out": "You are signed out. Sign in again with your API token to come back.",
    "session-ended": "Your session has ended (signed out in another tab, expired, or the token was revoked): "
                     "sign in again.",
}

# No inline script or style anywhere: the CSP forbids both, which turns most injection bugs
# into harmless text.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _format_time(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.isoformat()


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("api.ui", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,  # a typo in a template is an error, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _format_time
    env.filters["iso"] = _iso
    env.filters["pretty_json"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return env


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request, and the CSRF token their pages carry."""

    identity: Identity
    session: Session
    csrf_token: str

    @property
    def user_id(self) -> str:
        return self.identity.actor.user_id

    @property
    def is_admin(self) -> bool:
        """Administrators' pages (the audit trail) are linked for them only."""
        return self.identity.actor.is_admin

    @property
    def label(self) -> str:
        return self.identity.email or self.identity.username


@dataclass(frozen=True)
class Pager:
    """One page of a list, for templates."""

    items: list[Any]
    page: int
    size: int
    count: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in form, fragments tell htmx to go there."""


def _handle_sign_in_required(
    req: falcon.Request, resp: falcon.Response, ex: SignInRequired, params: Any,
) -> None:
    if req.get_header("HX-Request"):
        resp.status = falcon.HTTP_401
        resp.set_header("HX-Redirect", f"{SIGN_IN}?reason=session-ended")
        resp.content_type = falcon.MEDIA_HTML
        resp.text = "Your session has ended: sign in again."
        return
    resp.status = falcon.HTTP_303
    resp.set_header("Location", SIGN_IN)


class _Ui:
    """Shared collaborators and helpers of the UI resources."""

    def __init__(
        self, env: jinja2.Environment, sessions: SessionCodec, authenticator: Authenticator,
        commands: CommandGateway, reads: ReadModels,
    ) -> None:
        self.env = env
        self.sessions = sessions
        self.authenticator = authenticator
        self.commands = commands
        self.reads = reads

    # --- who is asking ------------------------------------------------------------------------

    def viewer(self, req: falcon.Request) -> Viewer | None:
        session = self.sessions.from_request(req)
        if session is None:
            return None
        expires_at = self.sessions.expires_at(session)
        identity = self.authenticator.authenticate_session(session, expires_at=expires_at)
        if identity is None:  # signed out, or the token was revoked: the session has ended
            return None
        # The gateway reads the actor from here, as for API requests.
        req.context.identity = identity
        return Viewer(identity, session, self.sessions.csrf_token(session))

    def require(self, req: falcon.Request) -> Viewer:
        viewer = self.viewer(req)
        if viewer is None:
            raise SignInRequired()
        return viewer

    def require_unsafe(self, req: falcon.Request, form: Mapping[str, Any]) -> Viewer:
        """A signed-in user, for a state-changing request: the CSRF token must match."""
        viewer = self.require(req)
        self.check_csrf(req, form, viewer.session)
        return viewer

    def check_csrf(self, req: falcon.Request, form: Mapping[str, Any], session: Session) -> None:
        given = req.get_header(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not self.sessions.csrf_ok(session, given):
            raise ApiError(status=403, type="client_error", errors=[error_entry(
                "csrf_failed", "The form is out of date: reload the page and try again.",
            )])

    # --- reading ------------------------------------------------------------------------------

    def before_read(
        self, req: falcon.Request, resp: falcon.Response, viewer: Viewer, names: Iterable[str],
    ) -> None:
        """The API's read-your-writes wait: up to the user's last write, or the position the
        page asks for (`X-Min-Event-Position`, sent by static/app.js after a live update)."""
        self.reads.before_read(req, resp, viewer.user_id, _int(req.get_param("min_position")), names)

    def render(self, resp: falcon.Response, template: str, status: int = 200, **context: Any) -> None:
        resp.status = falcon.code_to_http_status(status)
        resp.content_type = "text/html; charset=utf-8"
        for name, value in _SECURITY_HEADERS.items():
            resp.set_header(name, value)
        resp.text = self.env.get_template(template).render(**context)

    def render_many(
        self, resp: falcon.Response, parts: list[tuple[str, dict[str, Any]]], status: int = 200,
    ) -> None:
        """Several templates in one response: the target's content, then out-of-band swaps."""
        resp.status = falcon.code_to_http_status(status)
        resp.content_type = "text/html; charset=utf-8"
        for name, value in _SECURITY_HEADERS.items():
            resp.set_header(name, value)
        resp.text = "\n".join(self.env.get_template(name).render(**ctx) for name, ctx in parts)

    # --- views of the read models ---------------------------------------------------------------

    def runs_page(self, viewer: Viewer, page: int) -> Pager:
        with self.reads.connection() as conn:
            result = q.list_user_runs(
                conn, viewer.user_id, offset=(page - 1) * RUNS_PAGE_SIZE, limit=RUNS_PAGE_SIZE,
            )
            retracted = retracted_among(conn, [str(row["run_id"]) for row in result.rows])
        runs = [_run_view(row) for row in result.rows]
        for run in runs:
            run["retracted"] = str(run["id"]) in retracted
        return Pager(runs, page, RUNS_PAGE_SIZE, result.count)

    def workers_page(self, viewer: Viewer, filters: Mapping[str, Any], page: int) -> Pager:
        with self.reads.connection() as conn:
            result = q.list_workers(
                conn, viewer.identity.actor,
                type=filters.get("type") or None, name=filters.get("name") or None,
                offset=(page - 1) * WORKERS_PAGE_SIZE, limit=WORKERS_PAGE_SIZE,
            )
        return Pager(s.worker_schema.dump(result.rows, many=True), page, WORKERS_PAGE_SIZE, result.count)

    def worker_types(self) -> list[dict[str, Any]]:
        with self.reads.connection() as conn:
            result = q.list_worker_types(conn, limit=TYPES_LIMIT)
        return s.worker_type_schema.dump(result.rows, many=True)

    def worker_detail(self, viewer: Viewer, worker_id: str, page: int) -> tuple[dict[str, Any], Pager] | None:
        """A worker (with `run_choices`, see api/ui/queries.run_choices) and a page of its versions,
        each with `my_run_id` (the viewer's run of it)."""
        with self.reads.connection() as conn:
            row = q.get_worker(conn, viewer.identity.actor, worker_id)
            versions = q.list_worker_versions(
                conn, viewer.identity.actor, worker_id,
                offset=(page - 1) * VERSIONS_PAGE_SIZE, limit=VERSIONS_PAGE_SIZE,
            )
            items = s.worker_version_schema.dump(versions.rows, many=True) if versions else []
            runs = user_runs_by_version(conn, viewer.user_id, [item["id"] for item in items])
            choices = run_choices(conn, viewer.identity.actor, worker_id) if row is not None else {}
        if row is None or versions is None:
            return None
        for item in items:  # a version that has the user's run shows its ID instead of "+"
            item["my_run_id"] = runs.get(str(item["id"]))
        worker: dict[str, Any] = s.worker_schema.dump(row)
        worker["run_choices"] = choices  # the run options' configurations and model versions
        return worker, Pager(items, page, VERSIONS_PAGE_SIZE, versions.count)

    def run_command(
        self, req: falcon.Request, resp: falcon.Response, command: m.Command, names: Iterable[str],
    ) -> Any:
        """Run a command (as the API does), then wait until `names` show its result."""
        result = self.commands.run(req, resp, command)
        self.reads.wait(resp, result.position, names)
        return result


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 0 else default


def _page(req: falcon.Request) -> int:
    return max(1, _int(req.get_param("page"), 1) or 1)


def _run_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    run = s.worker_run_schema.dump(row)
    version = run["worker_version"]
    model_version = run["model_version"]
    return {
        "id": run["id"],
        "summary": run["summary"],
        "worker_name": version["worker"]["name"],
        "worker_type": version["worker"]["type"],
        "version": version["version"],
        "revision_url": version["revision_url"],
        "configuration": run["configuration"],
        "model": (f'{model_version["model"]["name"]} (version {model_version["number"]})'
                  if model_version else None),
        "created": row["created_at"],
    }


def _form(req: falcon.Request) -> dict[str, Any]:
    media = req.get_media(default_when_empty={})
    if not isinstance(media, Mapping):
        raise ApiError(status=400, type="validation_error", errors=[error_entry("invalid", "Send a form.")])
    # A repeated field keeps its last value: the forms never repeat one.
    return {key: (value[-1] if isinstance(value, list) else value) for key, value in media.items()}


def _field_errors(exc: marshmallow.ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for entry in flatten_messages(exc.messages):
        key = str(entry["attr"][0]) if entry["attr"] else "__all__"
        errors.setdefault(key, entry["detail"])
    return errors


def _domain_errors(exc: DomainError) -> dict[str, str]:
    return {exc.field or "__all__": exc.message}


def _api_errors(exc: ApiError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for entry in exc.errors:
        key = str(entry["attr"][0]) if entry.get("attr") else "__all__"
        errors.setdefault(key, entry["detail"])
    return errors


# --- pages -----------------------------------------------------------------------------------


class HomeResource(_Ui):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = falcon.HTTP_303
        resp.set_header("Location", HOME if self.viewer(req) else SIGN_IN)


class SignInResource(_Ui):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.viewer(req) is not None:
            resp.status = falcon.HTTP_303
            resp.set_header("Location", HOME)
            return
        reason = req.get_param("reason")
        self.render(resp, "sign_in.html", error=None, viewer=None, notice=SIGN_IN_NOTICES.get(reason or ""))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        # Login CSRF: another site must not sign the browser in as someone else. There is
        # no session (hence no CSRF token) yet, so check where the form came from.
        if not _same_origin(req):
            raise ApiError(status=403, type="client_error", errors=[error_entry(
                "csrf_failed", "Sign in from this site's own sign-in page.",
            )])
        token = str(_form(req).get("token", "")).strip()
        identity = self.authenticator.authenticate(f"Token {token}") if token else None
        if identity is None:
            self.render(resp, "sign_in.html", status=FORM_AGAIN, viewer=None, notice=None,
                        error="This API token is unknown or has been revoked.")
            return
        value, _session = self.sessions.issue(hash_token(token))
        self.sessions.set_cookie(req, resp, value)
        resp.status = falcon.HTTP_303
        resp.set_header("Location", HOME)


class PasswordSignInResource(_Ui):
    """The sign-in page's email and password form (issue 10 B): the API's Login, throttled the
    same way (api/users/resources.py); the session is bound to a new token issued for it."""

    _signer: PasswordSignIn | None = None

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not _same_origin(req):
            raise ApiError(status=403, type="client_error", errors=[error_entry(
                "csrf_failed", "Sign in from this site's own sign-in page.",
            )])
        form = _form(req)
        if self._signer is None:
            self._signer = PasswordSignIn(self.reads.engine, self.commands.bus)
        try:
            signed = self._signer.sign_in(
                str(form.get("email", "")), str(form.get("password", "")), client_address(req), "web sign-in",
            )
        except ApiError as exc:
            status = 429 if exc.status_code == 429 else FORM_AGAIN
            self.render(resp, "sign_in.html", status=status, viewer=None, notice=None,
                        error=exc.errors[0]["detail"], email=str(form.get("email", "")))
            for name, value in dict(exc.headers or {}).items():
                resp.set_header(name, value)
            return
        value, _session = self.sessions.issue(hash_token(signed.token))
        self.sessions.set_cookie(req, resp, value)
        resp.status = falcon.HTTP_303
        resp.set_header("Location", HOME)


def _same_origin(req: falcon.Request) -> bool:
    """True unless the browser says the request came from another site."""
    if req.get_header("Sec-Fetch-Site") in ("cross-site", "same-site"):
        return False
    origin = req.get_header("Origin")
    if origin is None or origin == "null" and req.get_header("Sec-Fetch-Site") is None:
        return True  # not a browser form post, or an old browser: SameSite covers the rest
    return bool(origin == f"{req.forwarded_scheme}://{req.forwarded_host}")


class SignOutResource(_Ui):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        session = self.sessions.from_request(req)
        if session is not None:
            # Only the CSRF token is required, not a live session: signing out of a session
            # that already ended (second click, another tab, revoked token) still clears the
            # cookie. The token keeps other sites from signing the user out.
            self.check_csrf(req, form, session)
            # On the server, not only in this browser: a copied cookie must stop working too.
            self.authenticator.end_session(session)
        self.sessions.clear_cookie(req, resp)
        resp.status = falcon.HTTP_303
        resp.set_header("Location", f"{SIGN_IN}?reason=signed-out")


class WorkerRunsPage(_Ui):
    """The worker runs page: the user's runs, the help text, the creation modal."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        viewer = self.require(req)
        self.before_read(req, resp, viewer, (CATALOG, USER_RUNS))
        self.render(
            resp, "runs_page.html", viewer=viewer, runs=self.runs_page(viewer, _page(req)),
            types=self.worker_types(), workers=self.workers_page(viewer, {}, 1), filters=_filters({}),
        )


class RunPage(_Ui):
    """What did this run sign? (issue 14) The run's worker, version, configuration and model, how
    many objects of each type it signed and which (paginated), and its audit trail. The reads are
    the API's: RetrieveWorkerRun's visibility (owner or admin; anyone else gets the answer of
    an unknown run), ListWorkerRunResults's list, the audit trail's `worker_run` filter."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        viewer = self.require(req)
        self.before_read(req, resp, viewer, (CATALOG, USER_RUNS, DOCUMENTS))
        run_id, actor = str(id), viewer.identity.actor
        kind = req.get_param("type")
        kind = kind if kind in dq.SIGNED_TABLES else None
        with self.reads.connection() as conn:
            row = q.get_user_run(conn, actor, run_id)
            if row is not None:
                counts = dq.count_signed(conn, run_id)
                signed = dq.list_signed(conn, worker_run_id=run_id, type=kind, keyset=_signed_keyset(req))
                retraction = dq.get_retraction(conn, run_id)
        if row is None:
            self.render(resp, "run_missing.html", status=404, viewer=viewer, live=False)
            return
        trail_after = _int(req.get_param("trail_after"), 0) or 0
        events, trail_next = audit.search(
            self.reads.engine, actor, audit.AuditFilter(worker_run=run_id), after=trail_after,
            limit=AUDIT_PAGE_SIZE,
        )
        first = signed.key(signed.rows[0]) if signed.rows else None
        last = signed.key(signed.rows[-1]) if signed.rows else None
        self.render(
            resp, "run_page.html", viewer=viewer, live=False, run=_run_view(row), counts=counts, kind=kind,
            counts_text=counts_sentence(counts), retraction=retraction,
            just_retracted=req.get_param_as_bool("retracted", default=False),
            refusal=REFUSALS.get(req.get_param("refused") or ""),
            objects=[_signed_view(item) for item in signed.rows],
            next_cursor=_cursor(last) if last and signed.has_next else None,
            previous_cursor=_cursor(first) if first and signed.has_previous else None,
            trail=[_event_view(event.as_dict()) for event in events], trail_after=trail_after,
            trail_next=trail_next,
        )


#: why a retraction was refused (`?refused=`): a fixed text per reason, never text from the URL
REFUSALS = {"already": "This run was already retracted: nothing it signed is listed any more."}


class RetractRunForm(_Ui):
    """The run page's "Retract" (issue 14), after its confirmation dialog: the API's command
    (same rules: owner or admin, once), then back to the run's page, which says what happened."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        viewer = self.require_unsafe(req, _form(req))
        page = f"{HOME}/runs/{id}"
        try:
            result = self.commands.run(req, resp, RetractRun(run_id=str(id)))
        except RunAlreadyRetracted:
            _see_other(resp, f"{page}?refused=already")
            return
        except NotFound:  # not the viewer's run (or none): the answer of an unknown run
            self.render(resp, "run_missing.html", status=404, viewer=viewer, live=False)
            return
        # The page must show the objects hidden: wait for the listings to have the retraction.
        self.reads.wait(resp, result.position, RETRACTION_READS)
        _see_other(resp, f"{page}?retracted=1")


def _see_other(resp: falcon.Response, location: str) -> None:
    resp.status = falcon.HTTP_303
    resp.set_header("Location", location)


def _cursor(key: tuple[Any, ...]) -> str:
    """A signed-objects page boundary in the URL: `position~type~id` (see document_queries.SIGNED_ORDER)."""
    return "~".join(str(part) for part in key)


def _parse_cursor(value: str | None) -> tuple[Any, ...] | None:
    parts = (value or "").split("~")
    if len(parts) != 3 or parts[1] not in dq.SIGNED_TABLES:
        return None  # anything else is the first page, never an error
    position = _int(parts[0])
    try:
        object_id = str(UUID(parts[2]))
    except ValueError:
        return None
    return None if position is None else (position, parts[1], object_id)


def _signed_keyset(req: falcon.Request) -> q.Keyset:
    after = _parse_cursor(req.get_param("after"))
    before = _parse_cursor(req.get_param("before")) if after is None else None
    if before is not None:
        return q.Keyset(after=before, backwards=True, limit=SIGNED_PAGE_SIZE)
    return q.Keyset(after=after, limit=SIGNED_PAGE_SIZE)


def _signed_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {"type": row["type"], "id": str(row["id"]), "label": row["label"] or "",
            "element_id": str(row["element_id"]) if row["element_id"] else None, "created": row["created_at"]}


def _event_view(event: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("position", "type", "recorded_at", "actor", "correlation_id", "stream_id")
    return {key: event[key] for key in keys}


class ObjectSearchPage(_Ui):
    """Who created this object? (issue 14) Any object ID: its type, its creator, and the run that
    signed it — RetrieveObjectProvenance's query, so the same visibility rules."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        viewer = self.require(req)
        self.before_read(req, resp, viewer, (CATALOG, USER_RUNS, DOCUMENTS))
        text = str(req.get_param("id") or "").strip()[:100]
        found, error, status = None, None, 200
        if text:
            try:
                object_id = str(UUID(text))
            except ValueError:
                error = "Enter an object ID: a UUID like 3f2c8a9e-1b4d-4e6f-9a7b-2c5d8e1f0a3b."
            else:
                with self.reads.connection() as conn:
                    found = object_provenance(conn, viewer.identity.actor, object_id)
                if found is None:
                    error, status = "No object with this ID, or not one you may read.", 404
        self.render(resp, "object_page.html", status=status, viewer=viewer, live=False, query=text,
                    found=found, error=error)


# --- fragments -------------------------------------------------------------------------------


class RunsFragment(_Ui):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        viewer = self.require(req)
        self.before_read(req, resp, viewer, (CATALOG, USER_RUNS))
        self.render(resp, "runs_list.html", viewer=viewer, runs=self.runs_page(viewer, _page(req)), oob=False)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The green "+": create the user worker run of a version, show its id."""
        form = _form(req)
        viewer = self.require_unsafe(req, form)
        version_id = str(form.get("worker_version_id", ""))
        worker_id = str(form.get("worker_id", ""))
        # The run options (configuration, model version): "" is "none".
        options = {key: str(form.get(key) or "").strip() or None
                   for key in ("configuration_id", "model_version_id")}
        try:
            body = s.create_user_worker_run_body.load({"worker_version_id": version_id, **options})
            result = self.run_command(req, resp, m.CreateUserRun(
                worker_version_id=str(body["worker_version_id"]),
                configuration_id=_str_or_none(body.get("configuration_id")),
                model_version_id=_str_or_none(body.get("model_version_id")),
            ), (CATALOG, USER_RUNS))
        except UserRunAlreadyExists as exc:
            self.render(resp, "run_notice.html", status=200, viewer=viewer, kind="exists", run=None,
                        run_id=exc.existing_id, worker_id=worker_id, message=exc.message)
            return
        except (DomainError, marshmallow.ValidationError) as exc:
            message = exc.message if isinstance(exc, DomainError) else _run_form_error(exc)
            self.render(resp, "run_notice.html", status=200, viewer=viewer, kind="error", run_id=None,
                        run=None, worker_id=worker_id, message=message)
            return
        run_id = result.data["run_id"]
        with self.reads.connection() as conn:
            row = q.get_user_run(conn, viewer.identity.actor, run_id)
        self.render_many(resp, [
            ("run_notice.html", {"viewer": viewer, "kind": "created", "run_id": run_id,
                                 "run": _run_view(row) if row else None,
                                 "worker_id": worker_id, "version_id": str(body["worker_version_id"]),
                                 "message": ""}),

            # The new run is the newest: page 1 of the list, swapped in place (out of band).
            ("runs_list.html", {"viewer": viewer, "runs": self.runs_page(viewer, 1), "oob": True}),
        ])


class WorkersFragment(_Ui):
    """The modal's workers list (filtered by type, searched by name, paginated), and
    "Create a local worker"."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        viewer = self.require(req)
        self.before_read(req, resp, viewer, (CATALOG,))
        filters = _filters(req.params)
        self.render(resp, "workers_list.html", viewer=viewer, filters=filters,
                    workers=self.workers_page(viewer, filters, _page(req)), oob=False,
                    selected=req.get_param("selected"))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        viewer = self.require_unsafe(req, form)
        values = {key: str(form.get(key, "")).strip() for key in ("name", "slug", "type", "description")}
        try:
            body = {key: value for key, value in values.items() if value}
            if "name" in body and "slug" not in body:
                body["slug"] = _slug_from(body["name"])
            body = s.create_worker_body.load(body)
            result = self.run_command(req, resp, m.CreateWorker(
                name=body["name"], slug=body["slug"], type=body["type"],
                description=body.get("description", ""),
            ), (CATALOG,))
        except marshmallow.ValidationError as exc:
            self._form_again(resp, viewer, values, _field_errors(exc))
            return
        except ApiError as exc:
            self._form_again(resp, viewer, values, _api_errors(exc))
            return
        except DomainError as exc:
            self._form_again(resp, viewer, values, _domain_errors(exc))
            return
        worker_id = result.data["worker_id"]
        filters = _filters(form)
        if not result.data.get("created"):
            # Get-or-create by slug (the API's contract): nothing was created, and the name and
            # type typed were not used. Say so, keep the form, offer the existing worker.
            existing = self.worker_detail(viewer, worker_id, 1)
            self.render(resp, "worker_form.html", status=FORM_AGAIN, viewer=viewer, values=values, errors={},
                        types=self.worker_types(), existing=existing[0] if existing else {"id": worker_id})
            return
        detail = self.worker_detail(viewer, worker_id, 1)
        if detail is None:  # projections past the bounded wait: say so, and never invite a second press
            _retarget(resp)
            self.render(resp, "saved_not_shown.html", viewer=viewer, what="The worker was created")
            return
        worker, versions = detail
        notice = "Worker created. Now create a version for it."
        _retarget(resp)
        self.render_many(resp, [
            ("worker_detail.html", {"viewer": viewer, "worker": worker, "versions": versions,
                                    "notice": notice,
                                    "focus_version": None}),
            ("workers_list.html", {"viewer": viewer, "filters": filters, "oob": True, "selected": worker_id,
                                   "workers": self.workers_page(viewer, filters, 1)}),
            ("type_options.html", {"types": self.worker_types(), "filters": filters, "oob": True}),
        ])

    def _form_again(self, resp: falcon.Response, viewer: Viewer, values: dict[str, str],
                    errors: dict[str, str]) -> None:
        self.render(resp, "worker_form.html", status=FORM_AGAIN, viewer=viewer, values=values, errors=errors,
                    types=self.worker_types(), existing=None)


class QuickRunFragment(_Ui):
    """Issue 14, the one-step run: "Quick run" in the modal. The answer is the worker's panel
    (its versions, the one used showing the run's ID), the run's ID with Copy in the modal's
    status line, and the runs and workers lists brought up to date, all out of band."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        viewer = self.require(req)
        self._form_again(resp, viewer, {}, {}, status=200)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        viewer = self.require_unsafe(req, form)
        values = {key: str(form.get(key, "")).strip() for key in ("name", "type", "docker_image_iid")}
        if not values["name"]:
            self._form_again(resp, viewer, values, {"name": "Enter a worker's name: yours, or a new one."})
            return
        try:
            body = s.quick_user_worker_run_body.load({key: value for key, value in values.items() if value})
            result = self.run_command(req, resp, m.QuickUserRun(
                name=body["name"], type=body.get("type") or "worker",
                docker_image_iid=body.get("docker_image_iid"),
            ), (CATALOG, USER_RUNS))
        except marshmallow.ValidationError as exc:
            self._form_again(resp, viewer, values, _field_errors(exc))
            return
        except DomainError as exc:
            # The slug is derived from the name: a taken slug is the name's problem.
            field = {"slug": "name"}.get(exc.field or "", exc.field or "__all__")
            if field not in values:
                field = "__all__"
            message = exc.message
            if exc.field == "slug":
                message = ("Another user's worker already has this name's slug: choose another name "
                           "(or ask its owner to share it with you).")
            self._form_again(resp, viewer, values, {field: message})
            return
        data = result.data
        filters = _filters(form)
        parts: list[tuple[str, dict[str, Any]]] = []
        detail = self.worker_detail(viewer, data["worker_id"], 1)
        if detail is None:  # past the bounded wait: the ID is known all the same (see the notice)
            parts.append(("saved_not_shown.html", {"viewer": viewer, "what": "Your run is ready"}))
        else:
            worker, versions = detail
            parts.append(("worker_detail.html", {
                "viewer": viewer, "worker": worker, "versions": versions, "notice": None,
                "focus_version": data["worker_version_id"],
            }))
        parts += [
            ("quick_run_notice.html", {"run_id": data["run_id"], "run_created": data["run_created"],
                                       "story": _quick_run_story(data)}),
            ("runs_list.html", {"viewer": viewer, "runs": self.runs_page(viewer, 1), "oob": True}),
            ("workers_list.html", {
                "viewer": viewer, "filters": filters, "oob": True, "selected": data["worker_id"],
                "workers": self.workers_page(viewer, filters, 1),
            }),
            ("type_options.html", {"types": self.worker_types(), "filters": filters, "oob": True}),
        ]
        _retarget(resp)
        self.render_many(resp, parts)

    def _form_again(self, resp: falcon.Response, viewer: Viewer, values: dict[str, str],
                    errors: dict[str, str], status: int = FORM_AGAIN) -> None:
        self.render(resp, "quick_run_form.html", status=status, viewer=viewer, values=values, errors=errors,
                    types=self.worker_types())


def _quick_run_story(data: Mapping[str, Any]) -> str:
    """What a quick run did, in one sentence."""
    worker = f"“{data['worker_name']}” ({data['worker_type']})"
    version = f"version {data['version_number']}"
    if data["worker_created"]:
        return f"Created the local worker {worker}, its {version} and your run of it."
    if data["version_created"]:
        return f"Created {version} of your worker {worker}, and your run of it."
    if data["run_created"]:
        return f"Used {version} of the worker {worker}: created your run of it."
    return f"The worker {worker} and its {version} already existed, with your run."


def _filters(params: Mapping[str, Any]) -> dict[str, str]:
    """The workers list filters: the modal's filter fields (`filter_name`, `filter_type`, named
    apart from the worker form's own `name` and `type`, which a creation includes them with)."""
    name = str(params.get("filter_name") or "").strip()[:200]
    type_ = str(params.get("filter_type") or "").strip()[:100]
    return {"name": name, "type": type_}


class NewWorkerFragment(_Ui):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        viewer = self.require(req)
        self.render(resp, "worker_form.html", viewer=viewer, values={}, errors={}, types=self.worker_types(),
                    existing=None)


class WorkerFragment(_Ui):
    """A worker chosen in the modal: its versions, each with the green "+"."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        viewer = self.require(req)
        self.before_read(req, resp, viewer, (CATALOG,))
        detail = self.worker_detail(viewer, str(id), _page(req))
        if detail is None:
            self.render(resp, "missing.html", status=404, viewer=viewer)
            return
        worker, versions = detail
        # `version_form=1`: the panel opens with a new version's form ("Create a new version" in
        # the "already have a run" notice), so the form always sits in its own worker's panel.
        self.render(resp, "worker_detail.html", viewer=viewer, worker=worker, versions=versions, notice=None,
                    focus_version=None, version_form=req.get_param_as_bool("version_form", default=False))


class NewVersionFragment(_Ui):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        viewer = self.require(req)
        self.render(resp, "version_form.html", viewer=viewer, worker_id=str(id), values={}, errors={})


VERSION_TEXT_FIELDS = ("docker_image_iid", "tag", "branch", "revision_url")
VERSION_CHOICE_FIELDS = ("gpu_usage", "model_usage")


class VersionsFragment(_Ui):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        form = _form(req)
        viewer = self.require_unsafe(req, form)
        worker_id = str(id)
        values = {key: str(form.get(key, "")).strip()
                  for key in (*VERSION_TEXT_FIELDS, *VERSION_CHOICE_FIELDS, "configuration")}
        # Every field is optional: an empty field is left out, as if the API call omitted it.
        fields: dict[str, Any] = {key: values[key] for key in (*VERSION_TEXT_FIELDS, *VERSION_CHOICE_FIELDS)
                                  if values[key]}
        if values["configuration"]:
            try:
                configuration = json.loads(values["configuration"], parse_constant=_no_constant)
            except ValueError as exc:
                self._form_again(resp, viewer, worker_id, values, {"configuration": _json_error(exc)})
                return
            if not isinstance(configuration, dict):
                self._form_again(resp, viewer, worker_id, values, {
                    "configuration": 'The configuration must be a JSON object, like {"key": "value"}.',
                })
                return
            fields["configuration"] = configuration
        if values["revision_url"] and not _is_web_url(values["revision_url"]):
            self._form_again(resp, viewer, worker_id, values, {"revision_url": (
                "Enter the full address of the revision, starting with https:// "
                "(for example https://gitlab.com/me/my-worker/-/commit/0a1b2c3)."
            )})
            return
        try:
            body = s.create_worker_version_body.load(fields)
            command = m.CreateWorkerVersion(worker_id=worker_id, fields=dict(body))
            result = self.run_command(req, resp, command, (CATALOG,))
        except marshmallow.ValidationError as exc:
            self._form_again(resp, viewer, worker_id, values, _field_errors(exc))
            return
        except AlreadyExists as exc:
            self._form_again(resp, viewer, worker_id, values, {exc.field or "__all__": exc.message})
            return
        except DomainError as exc:
            self._form_again(resp, viewer, worker_id, values, _domain_errors(exc))
            return
        detail = self.worker_detail(viewer, worker_id, 1)
        if detail is None:  # projections past the bounded wait: as above
            _retarget(resp)
            self.render(resp, "saved_not_shown.html", viewer=viewer, what="The version was created")
            return
        worker, versions = detail
        _retarget(resp)
        self.render(resp, "worker_detail.html", viewer=viewer, worker=worker, versions=versions,
                    notice="Version created: press the green + to create a worker run from it.",
                    focus_version=result.data["version_id"])

    def _form_again(self, resp: falcon.Response, viewer: Viewer, worker_id: str, values: dict[str, str],
                    errors: dict[str, str]) -> None:
        self.render(resp, "version_form.html", status=FORM_AGAIN, viewer=viewer, worker_id=worker_id,
                    values=values, errors=errors)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _run_form_error(exc: marshmallow.ValidationError) -> str:
    fields = _field_errors(exc)
    if "configuration_id" in fields:
        return "Choose a configuration from the list."
    if "model_version_id" in fields:
        return "Choose a model version from the list."
    return "Choose a worker version."


class NewConfigurationFragment(_Ui):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        viewer = self.require(req)
        self.render(resp, "configuration_form.html", viewer=viewer, worker_id=str(id), config_form=None)


class ConfigurationsFragment(_Ui):
    """A new named configuration of a worker, from the run options: JSON validated, then chosen."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        form = _form(req)
        viewer = self.require_unsafe(req, form)
        worker_id = str(id)
        values = {key: str(form.get(key, "")).strip() for key in ("config_name", "config_json")}
        selected_model = str(form.get("model_version_id") or "") or None
        errors: dict[str, str] = {}
        configuration: Any = None
        if not values["config_json"]:
            errors["configuration"] = 'Enter the configuration as a JSON object, like {"threshold": 0.8}.'
        else:
            try:
                configuration = json.loads(values["config_json"], parse_constant=_no_constant)
            except ValueError as exc:
                errors["configuration"] = _json_error(exc)
            else:
                if not isinstance(configuration, dict):
                    errors["configuration"] = 'A configuration is a JSON object, like {"key": "value"}.'
        if not values["config_name"]:
            errors["name"] = "Give the configuration a name (it shows in your runs list)."
        configuration_id = None
        if not errors:
            try:
                body = s.create_worker_configuration_body.load(
                    {"name": values["config_name"], "configuration": configuration},
                )
                result = self.run_command(req, resp, m.CreateWorkerConfiguration(
                    worker_id=worker_id, name=body["name"], configuration=body["configuration"],
                ), (CATALOG,))
                configuration_id = str(result.data["configuration_id"])
            except marshmallow.ValidationError as exc:
                errors = _field_errors(exc)
            except DomainError as exc:
                errors = _domain_errors(exc)
        with self.reads.connection() as conn:
            choices = run_choices(conn, viewer.identity.actor, worker_id)
        self.render(
            resp, "run_options.html", viewer=viewer, worker_id=worker_id, choices=choices,
            selected_config=configuration_id, selected_model=selected_model,
            config_form={"values": values, "errors": errors} if errors else None,
            focus_config=not errors,
            options_notice=(f"Configuration “{values['config_name']}” created: it is chosen for the next run."
                            if not errors else None),
        )


def _retarget(resp: falcon.Response) -> None:
    """A form answers with itself on error (swapped in place) and with the worker's panel
    on success: tell htmx where the success goes."""
    resp.set_header("HX-Retarget", "#worker-detail")
    resp.set_header("HX-Reswap", "innerHTML")


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"The configuration is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
    return f"The configuration is not valid JSON: {exc}."
