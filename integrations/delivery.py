"""Deliver a subscription's events, in order, from its checkpoint (the Celery task's logic).

One delivery run at a time per subscription (a lease row-update, renewed per event, that a
killed worker simply lets expire), so events leave in position order. For each event:

* the inbox row (`webhook_deliveries`, unique per subscription and event id) says whether it
  was already delivered: a re-run after a crash never sends a delivered event again, and an
  event whose 2xx was received but not recorded is sent again with the *same* `webhook-id`,
  so receivers dedupe (at-least-once, as Standard Webhooks expects);
* a 2xx records the delivery and moves the checkpoint in one transaction;
* a timeout, a connection error, 429 or 5xx schedules a retry with exponential back-off and
  full jitter; after `max_attempts` the event is parked (dead letter) and the subscription
  pauses with the reason. The checkpoint stays before the parked event: resuming retries it
  first, so nothing is lost or reordered;
* 410 Gone disables the subscription; any other 4xx parks at once (retrying will not help).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter
from sqlalchemy.engine import Engine
from urllib3.exceptions import NewConnectionError

from domain.actor import Actor
from domain.events import EventDecodeError
from eventstore.engine import writer
from eventstore.log_consumer import dialect_insert, exponential_delay
from eventstore.records import StoredEvent
from integrations import index, signing
from integrations.errors import WebhookUrlRefused
from integrations.feed import read_visible
from integrations.subscriptions import ACTIVE, DISABLED, PAUSED
from integrations.tables import (
    webhook_attempts,
    webhook_dead_letters,
    webhook_deliveries,
    webhook_subscriptions,
)
from integrations.translator import PUBLIC_TYPE_OF, TEST_EVENT_TYPE, translate
from integrations.urlguard import Resolver, Target, pin, resolve

BATCH = 50


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float = 10.0
    max_attempts: int = 8
    backoff: float = 2.0
    backoff_max: float = 3600.0
    allow_private: bool = False
    #: a delivery run gives the rest to a new task after this long
    time_budget: float = 20.0

    @property
    def lease(self) -> timedelta:
        # Above one attempt's worst case, so a live lease is never taken over mid-request.
        return timedelta(seconds=self.timeout * 2 + 1)


@dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str | None
    duration_ms: int


#: where (pinned, checked addresses), url, body, headers, timeout -> what happened (tests inject
#: failures here or at the receiver)
Sender = Callable[[Target, str, bytes, dict[str, str], float], Response]


class _PinnedAdapter(HTTPAdapter):
    """Connections to a pinned IP that still present and verify the URL's host name in TLS.

    The request URL names the checked IP (so nothing resolves the name again); the pool sends
    the name as SNI and matches the certificate against it (urllib3's `server_hostname` and
    `assert_hostname`; plain-HTTP pools drop both).
    """

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
        super().init_poolmanager(connections, maxsize, block, **kwargs)


def _connect_failed(exc: requests.RequestException) -> bool:
    """True when no connection was made (nothing sent): trying the next address is safe."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def http_sender(target: Target, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    started = time.monotonic()
    parts = urlsplit(url)
    status: int | None = None
    error: str | None = "connection error: the host does not resolve"
    with requests.Session() as session:
        # No proxies or .netrc from the environment: a proxy would resolve the name itself.
        session.trust_env = False
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        session.mount(f"{target.scheme}://", _PinnedAdapter(target.hostname))
        for address in target.addresses:
            # All addresses share one timeout: the lease (DeliveryPolicy.lease) covers one.
            remaining = timeout - (time.monotonic() - started)
            if remaining <= 0:
                break
            # An IPv6 literal in brackets (a zone id's `%` escaped, as URLs require).
            host = f"[{address.replace('%', '%25')}]" if ":" in address else address
            pinned = urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path, parts.query, ""))
            try:
                # No redirects: a 3xx to an internal address would bypass the URL guard.
                reply = session.post(
                    pinned,
                    data=body,
                    # The Host header the URL implies (with its port only when it names one).
                    headers={**headers, "Host": parts.netloc},
                    timeout=remaining,
                    allow_redirects=False,
                )
                status, error = reply.status_code, None
                reply.close()
                break
            except requests.Timeout as exc:
                status, error = None, "timeout"
                if not _connect_failed(exc):
                    break
            except requests.RequestException as exc:
                status, error = None, f"connection error: {type(exc).__name__}"
                if not _connect_failed(exc):
                    break
    return Response(status, error, int((time.monotonic() - started) * 1000))


@dataclass(frozen=True)
class Verdict:
    """What one delivery attempt's answer means."""

    #: delivered | disable (410 Gone) | retry | park
    kind: str
    error: str | None = None
    #: whether the failure was of a kind worth retrying (a parked retryable failure ran out of attempts)
    retryable: bool = False


def classify(response: Response, attempts: int, max_attempts: int) -> Verdict:
    """Pure: 2xx delivered; 410 disables the subscription; network errors (not refusals by the
    address guard), 429 and 5xx are retried until `max_attempts`; anything else parks the event."""
    status = response.status_code
    if status is not None and 200 <= status < 300:
        return Verdict("delivered")
    error = response.error or f"HTTP {status}"
    if status == 410:
        return Verdict("disable", error)
    retryable = (
        (status is None and not error.startswith("refused"))
        or status == 429
        or (status is not None and status >= 500)
    )
    if retryable and attempts < max_attempts:
        return Verdict("retry", error, retryable=True)
    return Verdict("park", error, retryable=retryable)


def _park(
    conn: sa.Connection, delivery_id: str, sub_id: str, position: int, reason: str, now: datetime
) -> None:
    """Write the dead letter of `delivery_id`, or re-open the one a resume/replay closed.

    Resume and replay keep the row (with `replayed_at`) as history, so the same delivery can
    be parked again: a plain INSERT would hit the primary key, roll the attempt and the pause
    back, and leave the subscription active, re-sending forever.
    """
    values = {
        "delivery_id": delivery_id,
        "subscription_id": sub_id,
        "global_position": position,
        "reason": reason,
        "parked_at": now,
    }
    insert = dialect_insert(conn, webhook_dead_letters).values(**values)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[webhook_dead_letters.c.delivery_id],
            set_={"reason": reason, "parked_at": now, "replayed_at": None},
        )
    )


@dataclass(frozen=True)
class Outcome:
    #: idle | retry | paused | disabled | busy | inactive | budget
    state: str
    delivered: int = 0
    #: seconds until the next attempt is due (state "retry")
    retry_after: float | None = None


def body_of(event: dict[str, Any]) -> bytes:
    """The exact bytes signed and sent: deterministic, so every retry sends the same body."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _utc(now: Callable[[], datetime]) -> datetime:
    return now().astimezone(UTC)


def backoff_delay(attempts: int, policy: DeliveryPolicy, rng: Callable[[], float] = random.random) -> float:
    """Exponential back-off with jitter: the n-th retry waits between half and all of
    backoff * 2^(n-1), capped."""
    ceiling = exponential_delay(attempts, policy.backoff, policy.backoff_max)
    return ceiling / 2 + rng() * ceiling / 2


def signing_secrets(sub: Any, at: datetime) -> list[str]:
    secrets = [sub.secret]
    if sub.previous_secret and (
        sub.previous_secret_expires_at is None or sub.previous_secret_expires_at > at
    ):
        secrets.append(sub.previous_secret)
    return secrets


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        policy: DeliveryPolicy,
        *,
        sender: Sender = http_sender,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: Callable[[], float] = random.random,
        resolver: Resolver = resolve,
    ) -> None:
        self.engine = engine
        self.resolver = resolver
        self.policy = policy
        self.sender = sender
        self.now = now
        self.rng = rng

    # --- the lease --------------------------------------------------------------------------

    def _take_lease(self, sub_id: str, token: str) -> bool:
        now = _utc(self.now)
        with writer(self.engine).begin() as conn:
            taken = conn.execute(
                webhook_subscriptions.update()
                .where(
                    webhook_subscriptions.c.id == sub_id,
                    webhook_subscriptions.c.state == ACTIVE,
                    sa.or_(
                        webhook_subscriptions.c.lease_until.is_(None),
                        webhook_subscriptions.c.lease_until < now,
                    ),
                )
                .values(lease_owner=token, lease_until=now + self.policy.lease)
            ).rowcount
        return taken == 1

    def _renew(self, conn: sa.Connection, sub_id: str, token: str) -> bool:
        return (
            conn.execute(
                webhook_subscriptions.update()
                .where(
                    webhook_subscriptions.c.id == sub_id,
                    webhook_subscriptions.c.lease_owner == token,
                )
                .values(lease_until=_utc(self.now) + self.policy.lease)
            ).rowcount
            == 1
        )

    def _release(self, sub_id: str, token: str) -> None:
        with writer(self.engine).begin() as conn:
            conn.execute(
                webhook_subscriptions.update()
                .where(
                    webhook_subscriptions.c.id == sub_id,
                    webhook_subscriptions.c.lease_owner == token,
                )
                .values(lease_owner=None, lease_until=None)
            )

    # --- a run --------------------------------------------------------------------------------

    def run(self, sub_id: str) -> Outcome:
        """Deliver what is due for one subscription, in order, until idle, waiting, or out of time."""
        token = str(uuid.uuid4())
        if not self._take_lease(sub_id, token):
            with self.engine.connect() as conn:
                state = conn.execute(
                    sa.select(webhook_subscriptions.c.state).where(webhook_subscriptions.c.id == sub_id)
                ).scalar()
            return Outcome("busy" if state == ACTIVE else "inactive")
        try:
            return self._deliver(sub_id, token)
        finally:
            self._release(sub_id, token)

    def _deliver(self, sub_id: str, token: str) -> Outcome:
        started = time.monotonic()
        delivered = 0
        while time.monotonic() - started < self.policy.time_budget:
            with self.engine.connect() as conn:
                sub = conn.execute(
                    sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == sub_id)
                ).first()
            if sub is None or sub.state != ACTIVE:
                return Outcome("inactive", delivered)
            upto = index.catch_up(self.engine)
            batch = read_visible(
                self.engine,
                Actor(sub.owner_id, sub.owner_is_admin),
                after=sub.checkpoint,
                upto=upto,
                limit=BATCH,
                types=list(sub.event_types) or None,
            )
            if not batch:
                with writer(self.engine).begin() as conn:
                    # Nothing visible up to `upto`: skip the stretch (only forward, and only
                    # while we still hold the lease).
                    self._advance(conn, sub_id, token, upto)
                return Outcome("idle", delivered)
            for event in batch:
                outcome = self._one(sub_id, token, event)
                if outcome is not None:
                    return Outcome(outcome.state, delivered, outcome.retry_after)
                delivered += 1
        return Outcome("budget", delivered)

    def _inbox_row(self, sub_id: str, event: StoredEvent, public_type: str) -> Any:
        now = _utc(self.now)
        this_delivery = sa.select(webhook_deliveries).where(
            webhook_deliveries.c.subscription_id == sub_id,
            webhook_deliveries.c.event_id == event.event_id,
        )
        with writer(self.engine).begin() as conn:
            row = conn.execute(this_delivery).first()
            if row is None:
                conn.execute(
                    webhook_deliveries.insert().values(
                        id=str(uuid.uuid4()),
                        subscription_id=sub_id,
                        global_position=event.global_position,
                        event_id=event.event_id,
                        event_type=public_type,
                        status="pending",
                        attempts=0,
                        created_at=now,
                    )
                )
                row = conn.execute(this_delivery).first()
        return row

    def _advance(self, conn: sa.Connection, sub_id: str, token: str, position: int) -> None:
        conn.execute(
            webhook_subscriptions.update()
            .where(
                webhook_subscriptions.c.id == sub_id,
                webhook_subscriptions.c.lease_owner == token,
                webhook_subscriptions.c.checkpoint < position,
            )
            .values(checkpoint=position)
        )

    def _one(self, sub_id: str, token: str, event: StoredEvent) -> Outcome | None:
        """Deliver one event. None when it is done (delivered now or before) and the run goes on."""
        try:
            public = translate(event)
        except EventDecodeError as exc:
            return self._undecodable(sub_id, token, event, exc)
        assert public is not None  # read_visible only returns exposed types
        row = self._inbox_row(sub_id, event, public["type"])
        if row.status == "delivered":
            with writer(self.engine).begin() as conn:
                self._advance(conn, sub_id, token, event.global_position)
            return None
        now = _utc(self.now)
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return Outcome("retry", retry_after=(row.next_attempt_at - now).total_seconds())
        with writer(self.engine).begin() as conn:
            sub = conn.execute(
                sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == sub_id)
            ).first()
            if sub is None or sub.state != ACTIVE or not self._renew(conn, sub_id, token):
                return Outcome("inactive")
        response = self._send(sub, public, now)
        return self._record(sub, token, row, event, response)

    def _undecodable(self, sub_id: str, token: str, event: StoredEvent, exc: EventDecodeError) -> Outcome:
        """An event this version cannot decode (a schema version without its upcaster): parked
        with the reason and the subscription paused, as for a refused answer, so nothing later
        is sent out of order; resuming (once the upcaster is deployed) retries it."""
        row = self._inbox_row(sub_id, event, PUBLIC_TYPE_OF[event.event_type])
        now = _utc(self.now)
        error = f"cannot decode the event: {exc}"
        reason = f"event {event.global_position} parked: {error}"[:500]
        with writer(self.engine).begin() as conn:
            if not self._renew(conn, sub_id, token):
                return Outcome("inactive")
            conn.execute(webhook_deliveries.update().where(webhook_deliveries.c.id == row.id).values(
                status="parked", last_error=error[:500], next_attempt_at=None,
            ))
            _park(conn, row.id, sub_id, event.global_position, reason, now)
            self._set_state(conn, sub_id, PAUSED, reason, now)
        return Outcome("paused")

    def _send(self, sub: Any, public: dict[str, Any], now: datetime) -> Response:
        try:
            # Resolved once here; the sender connects only to these checked addresses.
            target = pin(sub.url, allow_private=self.policy.allow_private, resolver=self.resolver)
        except WebhookUrlRefused as exc:
            return Response(None, f"refused: {exc.message}", 0)
        body = body_of(public)
        headers = signing.headers(signing_secrets(sub, now), public["id"], int(now.timestamp()), body)
        return self.sender(target, sub.url, body, headers, self.policy.timeout)

    def _record(
        self, sub: Any, token: str, row: Any, event: StoredEvent, response: Response
    ) -> Outcome | None:
        """Write what one attempt's answer means (decided by `classify`, a pure function)."""
        now = _utc(self.now)
        attempts = row.attempts + 1
        verdict = classify(response, attempts, self.policy.max_attempts)
        deliveries = webhook_deliveries.update().where(webhook_deliveries.c.id == row.id)
        with writer(self.engine).begin() as conn:
            conn.execute(webhook_attempts.insert().values(
                delivery_id=row.id, attempted_at=now, status_code=response.status_code,
                error=response.error, duration_ms=response.duration_ms,
            ))
            lease = conn.execute(
                sa.select(webhook_subscriptions.c.lease_owner).where(webhook_subscriptions.c.id == sub.id)
            ).scalar()
            if lease != token:
                # A replay (or a takeover after our lease expired) happened while this attempt
                # was on the wire: keep the attempt in the history, change nothing else; the
                # run that holds the lease now decides this event's fate.
                return Outcome("inactive")
            if verdict.kind == "delivered":
                conn.execute(deliveries.values(
                    status="delivered", attempts=attempts, delivered_at=now, next_attempt_at=None,
                    last_error=None,
                ))
                self._advance(conn, sub.id, token, event.global_position)
                return None
            if verdict.kind == "disable":
                conn.execute(deliveries.values(attempts=attempts, last_error=verdict.error))
                self._set_state(conn, sub.id, DISABLED, "the receiver answered 410 Gone", now)
                return Outcome("disabled")
            if verdict.kind == "retry":
                delay = backoff_delay(attempts, self.policy, self.rng)
                conn.execute(deliveries.values(
                    attempts=attempts, last_error=verdict.error,
                    next_attempt_at=now + timedelta(seconds=delay),
                ))
                return Outcome("retry", retry_after=delay)
            reason = (
                f"event {event.global_position} parked after {attempts} attempts: {verdict.error}"
                if verdict.retryable
                else f"event {event.global_position} parked: {verdict.error}"
            )
            conn.execute(deliveries.values(
                status="parked", attempts=attempts, last_error=verdict.error, next_attempt_at=None,
            ))
            _park(conn, row.id, sub.id, event.global_position, reason, now)
            self._set_state(conn, sub.id, PAUSED, reason, now)
            return Outcome("paused")

    @staticmethod
    def _set_state(conn: sa.Connection, sub_id: str, state: str, reason: str, now: datetime) -> None:
        conn.execute(
            webhook_subscriptions.update()
            .where(webhook_subscriptions.c.id == sub_id)
            .values(state=state, state_reason=reason, updated_at=now)
        )

    # --- a test event -------------------------------------------------------------------------

    def send_test(self, sub: Any) -> dict[str, Any]:
        """Send a synthetic `webhook.test` event now (one attempt, recorded as a delivery)."""
        now = _utc(self.now)
        event_id = str(uuid.uuid4())
        public = {
            "id": event_id,
            "type": TEST_EVENT_TYPE,
            "schema_version": 1,
            "position": 0,
            "occurred_at": now.isoformat(),
            "recorded_at": now.isoformat(),
            "actor": {"type": "user", "id": sub.owner_id},
            "correlation_id": event_id,
            "data": {"subscription_id": sub.id, "message": "This is a test event."},
        }
        response = self._send(sub, public, now)
        ok = response.status_code is not None and 200 <= response.status_code < 300
        delivery_id = str(uuid.uuid4())
        with writer(self.engine).begin() as conn:
            conn.execute(
                webhook_deliveries.insert().values(
                    id=delivery_id,
                    subscription_id=sub.id,
                    global_position=0,
                    event_id=event_id,
                    event_type=TEST_EVENT_TYPE,
                    status="test",
                    attempts=1,
                    created_at=now,
                    delivered_at=now if ok else None,
                    last_error=None if ok else (response.error or f"HTTP {response.status_code}"),
                )
            )
            conn.execute(
                webhook_attempts.insert().values(
                    delivery_id=delivery_id,
                    attempted_at=now,
                    status_code=response.status_code,
                    error=response.error,
                    duration_ms=response.duration_ms,
                )
            )
        return {
            "delivery_id": delivery_id,
            "event_id": event_id,
            "ok": ok,
            "status_code": response.status_code,
            "error": response.error,
        }
