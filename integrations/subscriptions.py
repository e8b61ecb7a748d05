"""Webhook subscriptions: create, read, change, delete, rotate, resume, replay.

Plain tables, not an event-sourced aggregate (integrations/tables.py says why); every change
is written together with a row of the append-only `webhook_subscription_changes` log (who,
what, when, which request), so changes are durable and auditable.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.actor import Actor
from eventstore.engine import writer
from integrations import index, signing
from integrations.errors import (
    IntegrationNotFound,
    InvalidSubscriptionState,
    InvalidWebhookSecret,
    ReplayAheadOfCheckpoint,
)
from integrations.tables import (
    webhook_attempts,
    webhook_dead_letters,
    webhook_deliveries,
    webhook_subscription_changes,
    webhook_subscriptions,
)
from integrations.urlguard import check_url

ACTIVE, PAUSED, DISABLED = "active", "paused", "disabled"
#: how long the previous secret still signs deliveries after a rotation
ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class Caller:
    actor: Actor
    correlation_id: str | None = None


def present(row: Any, *, secret: str | None = None) -> dict[str, Any]:
    """The public shape; the secret only when just generated or rotated (shown once)."""
    body = {
        "id": row.id,
        "url": row.url,
        "events": list(row.event_types),
        "state": row.state,
        "state_reason": row.state_reason,
        "checkpoint": row.checkpoint,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "owner_id": row.owner_id,
        "rotating": row.previous_secret is not None,
    }
    if secret is not None:
        body["secret"] = secret
    return body


def _log(
    conn: sa.Connection,
    sub_id: str,
    change: str,
    caller: Caller,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        webhook_subscription_changes.insert().values(
            subscription_id=sub_id,
            change=change,
            actor_id=caller.actor.user_id,
            correlation_id=caller.correlation_id,
            details=details or {},
            recorded_at=now,
        )
    )


def _owned(conn: sa.Connection, caller: Caller, sub_id: str, *, for_update: bool = False) -> Any:
    query = sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == sub_id)
    if not caller.actor.is_admin:
        query = query.where(webhook_subscriptions.c.owner_id == caller.actor.user_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise IntegrationNotFound("No such webhook subscription.")
    return row


def create(
    engine: Engine,
    caller: Caller,
    *,
    url: str,
    event_types: Sequence[str],
    secret: str | None,
    allow_private: bool,
    now: datetime,
) -> dict[str, Any]:
    if secret is not None and not signing.valid_secret(secret):
        raise InvalidWebhookSecret(
            "The secret must be `whsec_` followed by at least 16 base64 bytes.", field="secret"
        )
    check_url(url, allow_private=allow_private)  # after the cheap checks: it resolves the host
    generated = secret is None
    secret = secret or signing.generate_secret()
    sub_id = str(uuid.uuid4())
    # A new subscription receives what happens from now on; `replay` reaches further back.
    start = index.catch_up(engine)
    with writer(engine).begin() as conn:
        conn.execute(
            webhook_subscriptions.insert().values(
                id=sub_id,
                owner_id=caller.actor.user_id,
                owner_is_admin=caller.actor.is_admin,
                url=url,
                event_types=list(event_types),
                secret=secret,
                state=ACTIVE,
                checkpoint=start,
                created_at=now,
                updated_at=now,
            )
        )
        _log(
            conn,
            sub_id,
            "created",
            caller,
            now,
            {"url": url, "events": list(event_types), "checkpoint": start},
        )
        row = _owned(conn, caller, sub_id)
    return present(row, secret=secret if generated else None)


def get(engine: Engine, caller: Caller, sub_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return present(_owned(conn, caller, sub_id))


def list_page(engine: Engine, caller: Caller, *, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    where = [] if caller.actor.is_admin else [webhook_subscriptions.c.owner_id == caller.actor.user_id]
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(webhook_subscriptions).where(*where)
        ).scalar()
        rows = conn.execute(
            sa.select(webhook_subscriptions)
            .where(*where)
            .order_by(webhook_subscriptions.c.created_at, webhook_subscriptions.c.id)
            .offset(offset)
            .limit(limit)
        ).all()
    return int(count or 0), [present(row) for row in rows]


def update(
    engine: Engine,
    caller: Caller,
    sub_id: str,
    changes: dict[str, Any],
    *,
    allow_private: bool,
    now: datetime,
) -> dict[str, Any]:
    if "url" in changes:
        check_url(changes["url"], allow_private=allow_private)
    values: dict[str, Any] = {}
    if "url" in changes:
        values["url"] = changes["url"]
    if "events" in changes:
        values["event_types"] = list(changes["events"])
    with writer(engine).begin() as conn:
        row = _owned(conn, caller, sub_id, for_update=True)
        if "state" in changes and changes["state"] != row.state:
            # Re-enabling after a 410 is the owner's explicit decision. Activating is a resume:
            # parked events go back in the queue (retried first, in order), exactly as
            # `resume` does, so the two ways to re-activate cannot drift apart.
            if changes["state"] == ACTIVE:
                _requeue_parked(conn, sub_id, now)
            values["state"] = changes["state"]
            values["state_reason"] = "paused by its owner" if changes["state"] == PAUSED else None
        if values:
            conn.execute(
                webhook_subscriptions.update()
                .where(webhook_subscriptions.c.id == sub_id)
                .values(**values, updated_at=now)
            )
            _log(
                conn,
                sub_id,
                "updated",
                caller,
                now,
                {k: v for k, v in {**changes}.items() if k in ("url", "events", "state")},
            )
        return present(_owned(conn, caller, sub_id))


def delete(engine: Engine, caller: Caller, sub_id: str, *, now: datetime) -> None:
    with writer(engine).begin() as conn:
        row = _owned(conn, caller, sub_id, for_update=True)
        delivery_ids = sa.select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.subscription_id == sub_id
        )
        conn.execute(webhook_attempts.delete().where(webhook_attempts.c.delivery_id.in_(delivery_ids)))
        conn.execute(webhook_dead_letters.delete().where(webhook_dead_letters.c.subscription_id == sub_id))
        conn.execute(webhook_deliveries.delete().where(webhook_deliveries.c.subscription_id == sub_id))
        conn.execute(webhook_subscriptions.delete().where(webhook_subscriptions.c.id == sub_id))
        # The change log outlives the subscription: who deleted what, and when.
        _log(conn, sub_id, "deleted", caller, now, {"url": row.url})


def rotate_secret(
    engine: Engine, caller: Caller, sub_id: str, *, secret: str | None, now: datetime
) -> dict[str, Any]:
    """A new secret; the previous one keeps signing (a second signature) for ROTATION_OVERLAP."""
    if secret is not None and not signing.valid_secret(secret):
        raise InvalidWebhookSecret(
            "The secret must be `whsec_` followed by at least 16 base64 bytes.", field="secret"
        )
    new = secret or signing.generate_secret()
    with writer(engine).begin() as conn:
        row = _owned(conn, caller, sub_id, for_update=True)
        conn.execute(
            webhook_subscriptions.update()
            .where(webhook_subscriptions.c.id == sub_id)
            .values(
                secret=new,
                previous_secret=row.secret,
                previous_secret_expires_at=now + ROTATION_OVERLAP,
                updated_at=now,
            )
        )
        _log(
            conn,
            sub_id,
            "secret_rotated",
            caller,
            now,
            {"previous_valid_until": (now + ROTATION_OVERLAP).isoformat()},
        )
        return present(_owned(conn, caller, sub_id), secret=new)


def resume(engine: Engine, caller: Caller, sub_id: str, *, now: datetime) -> dict[str, Any]:
    """Paused (by its owner, or by a parked event) -> active: parked events are retried first,
    in order, from the subscription's checkpoint."""
    with writer(engine).begin() as conn:
        row = _owned(conn, caller, sub_id, for_update=True)
        if row.state == ACTIVE:
            return present(row)
        _requeue_parked(conn, sub_id, now)
        conn.execute(
            webhook_subscriptions.update()
            .where(webhook_subscriptions.c.id == sub_id)
            .values(state=ACTIVE, state_reason=None, updated_at=now)
        )
        _log(conn, sub_id, "resumed", caller, now, {"from_state": row.state})
        return present(_owned(conn, caller, sub_id))


def replay(
    engine: Engine, caller: Caller, sub_id: str, *, from_position: int, now: datetime
) -> dict[str, Any]:
    """Deliver again every matching event with position >= from_position (and resume)."""
    with writer(engine).begin() as conn:
        row = _owned(conn, caller, sub_id, for_update=True)
        if from_position < 1:
            raise InvalidSubscriptionState("Replays start at position 1 or later.", field="from_position")
        if from_position - 1 > row.checkpoint:
            # Moving the checkpoint forward would skip the undelivered events before
            # `from_position` without a trace: a replay only ever goes back.
            raise ReplayAheadOfCheckpoint(
                f"A replay can only go back: events up to position {row.checkpoint} are delivered "
                f"(or parked), so replay from position {row.checkpoint + 1} or earlier, not "
                f"{from_position}.",
                field="from_position",
            )
        _requeue_parked(conn, sub_id, now)
        conn.execute(
            webhook_deliveries.update()
            .where(
                webhook_deliveries.c.subscription_id == sub_id,
                webhook_deliveries.c.global_position >= from_position,
            )
            .values(status="pending", attempts=0, next_attempt_at=None)
        )
        conn.execute(
            webhook_subscriptions.update()
            .where(webhook_subscriptions.c.id == sub_id)
            .values(
                checkpoint=from_position - 1,
                state=ACTIVE,
                state_reason=None,
                updated_at=now,
                # A delivery run in progress loses its lease: it can no longer move the
                # checkpoint past the replayed stretch, and stops at its next event.
                lease_owner=None,
                lease_until=None,
            )
        )
        _log(conn, sub_id, "replayed", caller, now, {"from_position": from_position, "from_state": row.state})
        return present(_owned(conn, caller, sub_id))


def _requeue_parked(conn: sa.Connection, sub_id: str, now: datetime) -> None:
    parked = sa.select(webhook_dead_letters.c.delivery_id).where(
        webhook_dead_letters.c.subscription_id == sub_id, webhook_dead_letters.c.replayed_at.is_(None)
    )
    conn.execute(
        webhook_deliveries.update()
        .where(webhook_deliveries.c.id.in_(parked))
        .values(status="pending", attempts=0, next_attempt_at=None)
    )
    conn.execute(
        webhook_dead_letters.update()
        .where(
            webhook_dead_letters.c.subscription_id == sub_id,
            webhook_dead_letters.c.replayed_at.is_(None),
        )
        .values(replayed_at=now)
    )


def deliveries(
    engine: Engine,
    caller: Caller,
    sub_id: str,
    *,
    after: int = 0,
    limit: int = 100,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Deliveries in position order (test deliveries first), each with its attempts."""
    with engine.connect() as conn:
        _owned(conn, caller, sub_id)
        query = sa.select(webhook_deliveries).where(
            webhook_deliveries.c.subscription_id == sub_id, webhook_deliveries.c.global_position >= after
        )
        if status:
            query = query.where(webhook_deliveries.c.status == status)
        rows = conn.execute(
            query.order_by(webhook_deliveries.c.global_position, webhook_deliveries.c.created_at).limit(limit)
        ).all()
        ids = [row.id for row in rows]
        attempts: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for a in conn.execute(
                sa.select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_(ids))
                .order_by(webhook_attempts.c.id)
            ):
                attempts[a.delivery_id].append(
                    {
                        "attempted_at": a.attempted_at.isoformat(),
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    }
                )
        parked = {
            r.delivery_id: r.reason
            for r in conn.execute(
                sa.select(webhook_dead_letters).where(
                    webhook_dead_letters.c.subscription_id == sub_id,
                    webhook_dead_letters.c.replayed_at.is_(None),
                )
            )
        }
    return [
        {
            "id": row.id,
            "event_id": row.event_id,
            "event_type": row.event_type,
            "position": row.global_position,
            "status": row.status,
            "attempt_count": row.attempts,
            "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
            "last_error": row.last_error,
            "parked_reason": parked.get(row.id),
            "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            "attempts": attempts[row.id],
        }
        for row in rows
    ]


def dead_letters(engine: Engine, caller: Caller, sub_id: str) -> list[dict[str, Any]]:
    return [d for d in deliveries(engine, caller, sub_id, status="parked", limit=1000)]


def changes(engine: Engine, caller: Caller, sub_id: str) -> list[dict[str, Any]]:
    """The subscription's change log (who, what, when, which request), oldest first."""
    with engine.connect() as conn:
        _owned(conn, caller, sub_id)
        rows = conn.execute(
            sa.select(webhook_subscription_changes)
            .where(webhook_subscription_changes.c.subscription_id == sub_id)
            .order_by(webhook_subscription_changes.c.id)
        ).all()
    return [
        {
            "change": r.change,
            "actor_id": r.actor_id,
            "correlation_id": r.correlation_id,
            "details": r.details,
            "recorded_at": r.recorded_at.isoformat(),
        }
        for r in rows
    ]
