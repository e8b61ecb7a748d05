"""`worker-runs audit` and `worker-runs webhooks ...`: the integrations from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
import sqlalchemy as sa

from commands.aliases import USERNAME
from commands.rehydrate import load
from domain.actor import SYSTEM, Actor
from domain.user import User, user_stream
from eventstore import SqlEventStore
from integrations import audit as audit_queries
from integrations import subscriptions as subs
from integrations.errors import IntegrationError
from integrations.tables import webhook_subscriptions
from integrations.translator import PUBLIC_TYPES
from worker_runs.bootstrap import Container
from worker_runs.cli_context import current_container


def resolve_user(store: SqlEventStore, name_or_id: str) -> Actor:
    """`--as alice` or `--as <user uuid>` -> that user's Actor (with their admin flag)."""
    stream_id = store.resolve(USERNAME.format(name_or_id.lower())) or user_stream(name_or_id)
    user = load(store, User, stream_id)
    if not user.exists:
        raise click.BadParameter(f"no user named or with id {name_or_id!r}", param_hint="--as")
    return Actor(user.user_id, user.is_admin)


def _datetime(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@click.command("audit")
@click.option("--actor", default=None, help="User id of the actor.")
@click.option("--worker-run", default=None, help="Events signed by or about this worker run.")
@click.option("--stream", default=None, help="Any object's id (worker, version, run, user, element...).")
@click.option("--type", "type_", default=None, help="Stored event type, e.g. UserWorkerRunCreated.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    default=None,
    help="From this time (UTC unless an offset is given), inclusive.",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    default=None,
    help="Up to this time, exclusive.",
)
@click.option("--after", default=0, type=click.IntRange(min=0), help="Only events after this position.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="JSON lines, or CSV with a header.",
)
@click.option(
    "--as",
    "as_user",
    default=None,
    help="See what this user (name or id) may see; default: everything (operator).",
)
def audit(
    actor: str | None,
    worker_run: str | None,
    stream: str | None,
    type_: str | None,
    since: datetime | None,
    until: datetime | None,
    after: int,
    fmt: str,
    as_user: str | None,
) -> None:
    """Query the audit trail (the same filters as GET /api/v1/audit/)."""
    container = current_container()
    viewer = resolve_user(container.store, as_user) if as_user else SYSTEM
    f = audit_queries.AuditFilter(
        actor=actor,
        worker_run=worker_run,
        stream=stream,
        type=type_,
        since=_datetime(since),
        until=_datetime(until),
    )
    rows = audit_queries.iter_all(container.engine, viewer, f, after=after)
    out = sys.stdout
    if fmt == "csv":
        for chunk in audit_queries.iter_csv(rows):
            out.write(chunk.decode())
    else:
        for event in rows:
            out.write(json.dumps(event.as_dict(), ensure_ascii=False) + "\n")
    out.flush()


# --- webhooks ------------------------------------------------------------------------------


def _caller(container: Container, as_user: str | None) -> subs.Caller:
    actor = resolve_user(container.store, as_user) if as_user else SYSTEM
    return subs.Caller(actor, "cli")


def _print(obj: object) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


def _change(
    operation: Callable[..., object], subscription_id: str, as_user: str | None, **kwargs: Any
) -> None:
    """Run one of integrations/subscriptions.py's changes of a subscription as the caller, at the
    current time, and print its answer: what replay, resume and rotate-secret share."""
    c = current_container()
    _print(operation(c.engine, _caller(c, as_user), subscription_id, now=datetime.now(UTC), **kwargs))


_as_option = click.option(
    "--as",
    "as_user",
    default=None,
    help="Act as this user (name or id); default: the operator (sees everything).",
)


class _WebhooksGroup(click.Group):
    """Named integration errors (not found, refused URL, ...) become one-line CLI errors."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except IntegrationError as exc:
            raise click.ClickException(exc.message) from None


@click.group("webhooks", cls=_WebhooksGroup)
def webhooks() -> None:
    """Webhook subscriptions: create, list, deliveries, replay, resume, rotate, test (`worker-runs relay`
    announces due deliveries)."""


@webhooks.command("create")
@click.option("--url", required=True, help="Where to POST the events.")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    type=click.Choice(list(PUBLIC_TYPES)),
    help="A public event type (repeat for several).",
)
@click.option("--secret", default=None, help="`whsec_...`; generated and printed once when absent.")
@click.option("--as", "as_user", required=True, help="The subscription's owner (name or id).")
def webhooks_create(url: str, events: tuple[str, ...], secret: str | None, as_user: str) -> None:
    """Subscribe URL to events, from now on."""
    c = current_container()
    _print(
        subs.create(
            c.engine,
            _caller(c, as_user),
            url=url,
            event_types=list(events),
            secret=secret,
            allow_private=c.settings.webhook_allow_private,
            now=datetime.now(UTC),
        )
    )


@webhooks.command("list")
@_as_option
def webhooks_list(as_user: str | None) -> None:
    """One JSON line per subscription."""
    c = current_container()
    offset = 0
    while True:
        _, rows = subs.list_page(c.engine, _caller(c, as_user), offset=offset, limit=500)
        for row in rows:
            _print(row)
        if len(rows) < 500:
            return
        offset += 500


@webhooks.command("deliveries")
@click.argument("subscription_id")
@click.option("--status", type=click.Choice(["pending", "delivered", "parked", "test"]), default=None)
@click.option("--after", default=0, type=click.IntRange(min=0), help="From this event position on.")
@_as_option
def webhooks_deliveries(
    subscription_id: str, status: str | None, after: int, as_user: str | None
) -> None:
    """Deliveries and their attempts, one JSON line each, in position order."""
    c = current_container()
    for row in subs.deliveries(
        c.engine, _caller(c, as_user), subscription_id, after=after, limit=10_000, status=status
    ):
        _print(row)


@webhooks.command("replay")
@click.argument("subscription_id")
@click.option(
    "--from",
    "from_position",
    required=True,
    type=click.IntRange(min=1),
    help="Deliver again every matching event from this position on.",
)
@_as_option
def webhooks_replay(subscription_id: str, from_position: int, as_user: str | None) -> None:
    """Deliver SUBSCRIPTION_ID's matching events again, in order, from a position on
    (same webhook-id as the first time, so receivers can dedupe)."""
    _change(subs.replay, subscription_id, as_user, from_position=from_position)


@webhooks.command("resume")
@click.argument("subscription_id")
@_as_option
def webhooks_resume(subscription_id: str, as_user: str | None) -> None:
    """Resume a paused subscription: parked events are delivered first, in order."""
    _change(subs.resume, subscription_id, as_user)


@webhooks.command("rotate-secret")
@click.argument("subscription_id")
@click.option("--secret", default=None, help="The new `whsec_...` secret; generated when absent.")
@_as_option
def webhooks_rotate(subscription_id: str, secret: str | None, as_user: str | None) -> None:
    """A new secret (printed once); the previous one also signs for 24 hours."""
    _change(subs.rotate_secret, subscription_id, as_user, secret=secret)


@webhooks.command("test")
@click.argument("subscription_id")
@_as_option
def webhooks_test(subscription_id: str, as_user: str | None) -> None:
    """Send a `webhook.test` event now and print the outcome."""
    c = current_container()
    subs.get(c.engine, _caller(c, as_user), subscription_id)
    with c.engine.connect() as conn:
        row = conn.execute(
            sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        ).first()
    _print(c.deliverer.send_test(row))
