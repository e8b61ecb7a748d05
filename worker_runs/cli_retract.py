"""`worker-runs runs retract RUN_ID` (issue 14): withdraw everything a worker run signed.

The same command as the API's RetractWorkerRun, through the same bus: the run's aggregate
decides (its owner or an administrator, once). Without `--as` the operator acts as the
system (an administrator); `--as USERNAME` acts as that user, with that user's rights.
The confirmation states what the run signed; `--yes` skips it (scripts).
"""

from __future__ import annotations

import uuid

import click

from domain.actor import SYSTEM, Actor
from worker_runs.cli_context import current_container


def _actor(username: str | None) -> Actor:
    from commands.aliases import USERNAME
    from commands.rehydrate import load
    from domain.user import User

    if username is None:
        return SYSTEM
    container = current_container()
    stream_id = container.store.resolve(USERNAME.format(username.lower()))
    if stream_id is None:
        raise click.ClickException(f"No user named {username!r}.")
    user = load(container.store, User, stream_id)
    return Actor(user.user_id, user.is_admin)


@click.command("retract")
@click.argument("run_id")
@click.option("--as", "username", default=None, metavar="USERNAME",
              help="Act as this user (the run's owner or an administrator). Default: the system.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--wait", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds to wait for the read models (the counts, and the listings hiding the objects).")
def retract(run_id: str, username: str | None, yes: bool, wait: float) -> None:
    """Retract everything the worker run RUN_ID signed.

    Its elements, transcriptions, classifications and metadata disappear from the listings and
    the run signs nothing more. Nothing is erased: the audit trail keeps what the run published
    and records who retracted it.
    """
    from api.documents.retraction import RETRACTION_READS, counts_sentence
    from commands.retraction_messages import RetractRun
    from domain.errors import DomainError
    from projections import document_queries as dq
    from projections import queries as q
    from projections.consistency import wait_for_position

    try:
        run_id = str(uuid.UUID(run_id))
    except ValueError:
        raise click.BadParameter("a worker run ID is a UUID.", param_hint="RUN_ID") from None
    container = current_container()
    actor = _actor(username)
    if not wait_for_position(container.engine, container.store.head(), names=RETRACTION_READS, timeout=wait):
        click.echo("warning: the read models are behind the event log; the counts may be short.", err=True)
    with container.engine.connect() as conn:
        run = q.get_user_run(conn, actor, run_id)  # the owner's, or any for an admin
        if run is None:
            raise click.ClickException(f"No such worker run: {run_id}")
        done = dq.get_retraction(conn, run_id)
        counts = dq.count_signed(conn, run_id)
    if done is not None:
        raise click.ClickException(
            f"Worker run {run_id} was already retracted ({done['retracted_at']:%Y-%m-%d %H:%M} UTC, "
            f"by {done['retracted_by']})."
        )
    if not yes:
        click.confirm(
            f"Worker run {run_id} ({run['summary']}) signed {counts_sentence(counts)}.\n"
            "Retract all of it? The listings will stop showing it and the run will sign nothing more; "
            "the audit trail keeps it.",
            abort=True,
        )
    try:
        result = container.bus.handle(RetractRun(run_id=run_id), actor=actor)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    if not wait_for_position(container.engine, result.position, names=RETRACTION_READS, timeout=wait):
        click.echo("warning: the listings have not caught up yet; they hide the objects shortly.", err=True)
    with container.engine.connect() as conn:
        counts = dq.count_signed(conn, run_id)
    click.echo(f"Retracted worker run {run_id}: {counts_sentence(counts)} hidden from the listings.")
