"""The audit trail page, for administrators (issue 14): GET /api/v1/audit/'s filters (actor,
run, type, time range) as a form, one keyset page of the matches, and a CSV download.

No query of its own: the page reads integrations/audit.search (the query of the API and of
`worker-runs audit`), and its CSV button is a link to the API's own export
(`/api/v1/audit/?format=csv&...`, which the session cookie authenticates), built from the same
filter. What the UI adds: a username for the actor, datetime-local times read as UTC, and
clear messages for what the form cannot take.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import falcon

from api.base_schemas import MAX_INT64
from api.ui.queries import find_user_id, usernames
from api.ui.resources import HOME, _Ui
from domain.actor import SYSTEM
from domain.events import EVENT_TYPES
from eventstore.records import StoredEvent
from integrations import audit
from projections.queries import CATALOG

PATH = f"{HOME}/audit"
PAGE_SIZE = 50
#: the event types the type filter offers (the stored names, as the API's `type` takes them)
TYPES = tuple(sorted(EVENT_TYPES))
#: what a datetime-local input sends (seconds when its step allows them)
_LOCAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?")
#: event type -> the payload key of the object it is about (the stream's object otherwise):
#: an element's transcription is recorded in the element's stream, but is its own object.
OBJECT_KEYS = {
    "UserRegistered": "user_id",
    "TokenIssued": "token_id",
    "TokenRevoked": "token_id",
    "UserPasswordSet": "user_id",
    "WorkerTypeCreated": "type_id",
    "WorkerCreated": "worker_id",
    "WorkerUpdated": "worker_id",
    "WorkerAccessGranted": "worker_id",
    "WorkerVersionCreated": "version_id",
    "WorkerVersionUpdated": "version_id",
    "WorkerConfigurationCreated": "configuration_id",
    "ModelCreated": "model_id",
    "ModelVersionCreated": "model_version_id",
    "UserWorkerRunCreated": "run_id",
    "WorkerRunRetracted": "run_id",
    "CorpusCreated": "corpus_id",
    "ElementTypeCreated": "type_id",
    "MLClassCreated": "class_id",
    "ElementCreated": "element_id",
    "TranscriptionCreated": "transcription_id",
    "ClassificationCreated": "classification_id",
    "MetaDataCreated": "metadata_id",
    "ImageServerCreated": "server_id",
    "ImageCreated": "image_id",
    "ImageStatusUpdated": "image_id",
    "ElementParentAdded": "child_id",
    "ElementUpdated": "element_id",
    "EntityTypeCreated": "type_id",
    "TranscriptionEntityCreated": "entity_id",
}
#: objects the "Who created it?" page knows: their ID links there
_SEARCHABLE = {"ElementCreated", "TranscriptionCreated", "ClassificationCreated", "MetaDataCreated",
               "ElementUpdated", "ElementParentAdded"}
FIELDS = ("actor", "worker_run", "type", "since", "until")


@dataclass
class AuditForm:
    """The filter form as typed (`values`), its errors, and the filter it stands for."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    filter: audit.AuditFilter = field(default_factory=audit.AuditFilter)
    after: int = 0

    def query(self, **extra: Any) -> str:
        """The page's own URL query for these filters (as typed: the actor by name)."""
        params = {key: value for key, value in self.values.items() if value}
        return urlencode({**params, **{k: v for k, v in extra.items() if v}})

    def csv_url(self) -> str:
        """The API's CSV export of the same filter (every match, not only this page)."""
        f = self.filter
        params = {"format": "csv", "actor": f.actor, "worker_run": f.worker_run, "type": f.type,
                  "since": f.since.isoformat() if f.since else None,
                  "until": f.until.isoformat() if f.until else None}
        return "/api/v1/audit/?" + urlencode({k: v for k, v in params.items() if v})


def _local_time(text: str) -> datetime | None:
    """A datetime-local value, read as UTC (the page shows every time in UTC)."""
    if not _LOCAL_TIME.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:  # 2026-02-30T10:00: the right shape, not a date
        return None


def parse(params: Mapping[str, Any], find_user: Any) -> AuditForm:
    """The query string -> the form, its errors, and the audit filter. `find_user(text)` resolves
    the actor (a username or a user id) to a user id, None when there is no such user."""
    values = {key: _text(params.get(key))[:200] for key in FIELDS}
    form = AuditForm(values)
    errors = form.errors
    actor = None
    if values["actor"]:
        if values["actor"] == SYSTEM.user_id:
            actor = SYSTEM.user_id
        elif values["actor"].isprintable():  # no username has control characters (PostgreSQL refuses NUL)
            actor = find_user(values["actor"])
        if actor is None:
            errors["actor"] = "No user has this username or ID."
    run = None
    if values["worker_run"]:
        try:
            run = str(UUID(values["worker_run"]))
        except ValueError:
            errors["worker_run"] = "Enter a worker run ID: a UUID like 3f2c8a9e-1b4d-4e6f-9a7b-2c5d8e1f0a3b."
    if values["type"] and values["type"] not in EVENT_TYPES:
        errors["type"] = "Choose an event type from the list."
    times: dict[str, datetime | None] = {}
    for key in ("since", "until"):
        times[key] = _local_time(values[key]) if values[key] else None
        if values[key] and times[key] is None:
            errors[key] = "Enter a date and time, like 2026-12-07T14:30 (UTC)."
    if times["since"] and times["until"] and times["since"] >= times["until"]:
        errors["until"] = "“To” must be later than “From”."
    after = _text(params.get("after"))
    form.after = int(after) if after.isdigit() and int(after) <= MAX_INT64 else 0
    if not errors:
        form.filter = audit.AuditFilter(actor=actor, worker_run=run, type=values["type"] or None,
                                        since=times["since"], until=times["until"])
    return form


def _text(value: Any) -> str:
    if isinstance(value, list):  # a repeated parameter keeps its last value, as the forms do
        value = value[-1] if value else ""
    return str(value or "").strip()


def entry_view(event: StoredEvent, names: Mapping[str, str]) -> dict[str, Any]:
    """One row: when, who (username), which run (signed by, or the run the event is about),
    what happened, to which object."""
    payload = event.payload
    run = event.worker_run_id or (payload.get("run_id") if "run_id" in payload else None)
    key = OBJECT_KEYS.get(event.event_type)
    object_id = payload.get(key) if key else None
    if not object_id:
        tail = event.stream_id[-36:]
        object_id = tail if len(event.stream_id) > 36 and event.stream_id[-37] == "-" else event.stream_id
    return {
        "position": event.global_position,
        "recorded_at": event.recorded_at,
        "actor_id": event.actor_id,
        "actor_type": event.actor_type,
        "actor_name": names.get(event.actor_id),
        "run_id": str(run) if run else None,
        "type": event.event_type,
        "object_id": str(object_id),
        "object_searchable": event.event_type in _SEARCHABLE,
    }


class AuditPage(_Ui):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        viewer = self.require(req)
        if not viewer.is_admin:
            # The same answer as a page that does not exist: nothing tells a user it is there.
            raise falcon.HTTPNotFound()
        self.before_read(req, resp, viewer, (CATALOG,))
        with self.reads.connection() as conn:
            form = parse(req.params, lambda text: find_user_id(conn, text))
        rows: list[StoredEvent] = []
        next_after = None
        if not form.errors:
            rows, next_after = audit.search(
                self.reads.engine, viewer.identity.actor, form.filter, after=form.after, limit=PAGE_SIZE,
            )
        with self.reads.connection() as conn:
            names = usernames(conn, [row.actor_id for row in rows])
        context: dict[str, Any] = {
            "viewer": viewer, "form": form, "types": TYPES, "live": False,
            "entries": [entry_view(row, names) for row in rows], "next_after": next_after,
            "path": PATH,
        }
        # htmx swaps the trail section in place; a full load (or htmx restoring history) gets the page.
        fragment = req.get_header("HX-Request") and not req.get_header("HX-History-Restore-Request")
        if fragment:
            # The address bar shows the filters set, not every empty field the form sent.
            query = form.query(after=form.after)
            resp.set_header("HX-Push-Url", f"{PATH}?{query}" if query else PATH)
        self.render(resp, "audit_trail.html" if fragment else "audit_page.html", **context)
