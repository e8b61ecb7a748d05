"""Falcon resources of the integrations: event feed, live stream (SSE), audit, webhooks.

They rely on the caller the edge middleware authenticated (`req.context.identity`), so they
work with every authentication path it knows (API token, the web UI's session cookie).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode
from uuid import UUID

import falcon
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api import pagination
from api.auth import Authenticator
from api.base_resources import actor_of
from api.base_schemas import MAX_INT64
from api.errors import invalid, too_many_streams
from api.integrations import schemas as s
from integrations import audit, feed, index
from integrations import subscriptions as subs
from integrations.delivery import Deliverer
from integrations.live import EventStream, StreamOptions
from integrations.stream_slots import StreamLimitReached, StreamSlots
from integrations.tables import webhook_subscriptions
from worker_runs.settings import Settings

#: a year: a full page never changes (integrations/feed.py). `private`, not `public`: the page
#: depends on who asks (visibility), so only the caller's own cache may keep it.
IMMUTABLE = "private, max-age=31536000, immutable"


class EventFeedResource:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        page = feed.read_page(
            self.engine, actor_of(req), after=query["after"], limit=query["limit"], types=query["types"]
        )
        params: dict[str, Any] = {"after": page.next_after, "limit": query["limit"]}
        if query["types"]:
            params["types"] = ",".join(query["types"])
        body = {
            "events": page.events,
            "next": page.next_after,
            "next_url": f"{req.prefix}{req.path}?{urlencode(params)}",
            "complete": page.full,
        }
        resp.media = s.feed_page_schema.dump(body)
        # The page depends on who asks (visibility): shared caches must key on the credentials.
        resp.vary = ("Authorization", "Cookie")
        if page.full:
            tag = hashlib.sha256(
                f"{actor_of(req).user_id}|{query['after']}|{query['limit']}|{query['types']}|{page.next_after}".encode()
            ).hexdigest()[:32]
            resp.etag = tag
            resp.cache_control = [IMMUTABLE]
            if req.get_header("If-None-Match") in (f'"{tag}"', f'W/"{tag}"', tag):
                resp.status = falcon.HTTP_304
                resp.media = None
        else:
            resp.cache_control = ["no-store"]


class EventStreamResource:
    def __init__(
        self, engine: Engine, settings: Settings, authenticator: Authenticator, stream_slots: StreamSlots,
    ) -> None:
        self.engine = engine
        # The edge middleware's authenticator: the stream re-checks its caller with it.
        self.authenticator = authenticator
        self.options = StreamOptions(
            poll_interval=settings.sse_poll_interval,
            heartbeat=settings.sse_heartbeat_seconds,
            retry_ms=settings.sse_retry_ms,
            max_seconds=settings.sse_max_seconds,
            recheck_interval=settings.sse_auth_recheck_seconds,
        )
        # One count per process (built in bootstrap()): a stream holds one of this process's threads.
        self.slots = stream_slots
        self.retry_after = max(1, math.ceil(settings.sse_retry_ms / 1000))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        last_id = req.get_header("Last-Event-ID")
        if last_id is not None and last_id.strip():
            try:
                after = int(last_id.strip())
            except ValueError:
                raise invalid(["Last-Event-ID"], "Must be an event position (an integer).") from None
            # Same bound as `?after=`: a larger id would overflow the driver mid-stream.
            if not 0 <= after <= MAX_INT64:
                raise invalid(["Last-Event-ID"], "Must be an event position (an integer).")
        elif query["after"] is not None:
            after = query["after"]
        else:
            # A fresh subscription starts now: what happened before is in the feed.
            after = index.catch_up(self.engine)
        # Taken once nothing else can refuse the request; the stream gives it back.
        try:
            slot = self.slots.acquire(actor_of(req).user_id)
        except StreamLimitReached as exc:
            raise too_many_streams(
                per_user=exc.scope == "user", limit=exc.limit, retry_after=self.retry_after
            ) from None
        resp.content_type = "text/event-stream; charset=utf-8"
        resp.cache_control = ["no-store"]
        # Reverse proxies (nginx) must not buffer the stream.
        resp.set_header("X-Accel-Buffering", "no")
        credential = req.context.identity.credential
        resp.stream = EventStream(
            self.engine, actor_of(req), after=after, types=query["types"], options=self.options,
            # The stream outlives this request: a revoked token or a signed-out session must
            # end it, with the same checks a new request would get.
            still_authorized=functools.partial(self.authenticator.still_valid, credential),
            slot=slot,
        )


class AuditResource:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        f = audit_filter(query)
        resp.cache_control = ["no-store"]
        if query["format"] == "csv":
            resp.content_type = "text/csv; charset=utf-8"
            resp.downloadable_as = "audit.csv"
            resp.stream = audit.iter_csv(audit.iter_all(self.engine, actor_of(req), f, after=query["after"]))
            return
        rows, next_after = audit.search(
            self.engine, actor_of(req), f, after=query["after"], limit=query["limit"]
        )
        next_url = None
        if next_after is not None:
            params = {k: v for k, v in req.params.items() if k != "after"}
            next_url = f"{req.prefix}{req.path}?{urlencode({**params, 'after': next_after})}"
        resp.media = s.audit_page_schema.dump(
            {"results": [e.as_dict() for e in rows], "next": next_after, "next_url": next_url}
        )


def audit_filter(query: dict[str, Any]) -> audit.AuditFilter:
    return audit.AuditFilter(
        actor=query.get("actor"),
        worker_run=str(query["worker_run"]) if query.get("worker_run") else None,
        stream=query.get("stream"),
        type=query.get("type"),
        since=query.get("since"),
        until=query.get("until"),
    )


class RunProvenanceResource:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        resp.media = s.run_provenance_schema.dump(audit.run_provenance(self.engine, actor_of(req), str(id)))


# --- webhooks ------------------------------------------------------------------------------


def _caller(req: falcon.Request) -> subs.Caller:
    return subs.Caller(actor_of(req), getattr(req.context, "request_id", None))


def _now() -> datetime:
    return datetime.now(UTC)


class WebhooksResource:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        win = pagination.window(req.context.query)
        count, rows = subs.list_page(self.engine, _caller(req), offset=win.offset, limit=win.size)
        resp.media = pagination.page_body(req, win, count, s.webhook_schema.dump(rows, many=True))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        created = subs.create(
            self.engine,
            _caller(req),
            url=body["url"],
            event_types=body["events"],
            secret=body["secret"],
            allow_private=self.settings.webhook_allow_private,
            now=_now(),
        )
        resp.status = falcon.HTTP_201
        resp.media = s.webhook_schema.dump(created)


class WebhookResource:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        resp.media = s.webhook_schema.dump(subs.get(self.engine, _caller(req), str(id)))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        updated = subs.update(
            self.engine,
            _caller(req),
            str(id),
            req.context.body,
            allow_private=self.settings.webhook_allow_private,
            now=_now(),
        )
        resp.media = s.webhook_schema.dump(updated)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        subs.delete(self.engine, _caller(req), str(id), now=_now())
        resp.status = falcon.HTTP_204


class WebhookDeliveriesResource:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        q = req.context.query
        rows = subs.deliveries(
            self.engine, _caller(req), str(id), after=q["after"], limit=q["limit"], status=q["status"]
        )
        resp.media = s.deliveries_schema.dump({"results": rows})


class _WebhookChangeResource:
    """POST: one of integrations/subscriptions.py's changes of a subscription, made by the caller
    now with `body_fields` of the request body as keyword arguments; answers the subscription."""

    change: ClassVar[Callable[..., dict[str, Any]]]
    body_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        kwargs = {name: req.context.body[name] for name in self.body_fields}
        changed = type(self).change(self.engine, _caller(req), str(id), now=_now(), **kwargs)
        resp.media = s.webhook_schema.dump(changed)


class WebhookResumeResource(_WebhookChangeResource):
    change = staticmethod(subs.resume)


class WebhookReplayResource(_WebhookChangeResource):
    change = staticmethod(subs.replay)
    body_fields = ("from_position",)


class WebhookRotateSecretResource(_WebhookChangeResource):
    change = staticmethod(subs.rotate_secret)
    body_fields = ("secret",)


class WebhookTestResource:
    def __init__(self, engine: Engine, deliverer: Deliverer) -> None:
        self.engine = engine
        self.deliverer = deliverer

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        caller = _caller(req)
        subs.get(self.engine, caller, str(id))  # 404 unless the caller may see it
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == str(id))
            ).first()
        result = self.deliverer.send_test(row)
        resp.media = s.test_delivery_schema.dump(result)


class WebhookChangesResource:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: UUID) -> None:
        rows = subs.changes(self.engine, _caller(req), str(id))
        resp.media = s.subscription_changes_schema.dump({"results": rows})
