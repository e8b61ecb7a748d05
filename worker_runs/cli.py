"""The `worker-runs` command line. Every command has --help."""

from __future__ import annotations

import json
import sys
import time

import click

from api.users.passwords import PasswordStore, WeakPassword
from commands.aliases import USERNAME
from commands.messages import IssueToken, RegisterUser
from commands.sign_in_messages import RecordPasswordSet
from commands.tokens import generate_token, hash_token
from domain.errors import DomainError
from eventstore.migrate import upgrade
from worker_runs import cli_api, cli_integrations, cli_projections, cli_provenance, cli_runs
from worker_runs.bench.cli import bench
from worker_runs.cli_context import CliGroup, current_container


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """worker-runs: which worker, configuration and model produced each object.

    Configuration comes from the environment: WORKER_RUNS_DATABASE_URL (default: a SQLite
    file under WORKER_RUNS_HOME, itself ./.worker-runs by default) and WORKER_RUNS_BROKER_URL
    (default: an embedded broker).
    """


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations (safe to run again: it only applies what is missing)."""
    container = current_container()
    upgrade(container.engine)
    click.echo(f"Database at {container.engine.url.render_as_string(hide_password=True)} is up to date.")


@main.group()
def users() -> None:
    """Users and their API tokens."""


@users.command("create")
@click.argument("username")
@click.option("--email", default=None, help="The user's email address.")
@click.option("--admin", is_flag=True, help="Administrators see and manage everything.")
def users_create(username: str, email: str | None, admin: bool) -> None:
    """Register USERNAME and print a new API token, alone on the last line.

    The token is shown once: only its hash is stored. Use it as
    `Authorization: Token <token>` or ARKINDEX_API_TOKEN.
    """
    container = current_container()
    upgrade(container.engine)
    try:
        user_id = container.bus.handle(RegisterUser(username, email, admin)).data["user_id"]
        token = generate_token()
        container.bus.handle(IssueToken(user_id=user_id, token_hash=hash_token(token), label="cli"))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created {'admin ' if admin else ''}user {username} ({user_id}). API token:", err=False)
    click.echo(token)


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (scripts), instead of asking.")
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set USERNAME's password, for `arkindex login` and the Login operation.

    Asked twice without echo (or read from stdin); stored as an argon2 hash, never shown or logged.
    """
    container = current_container()
    upgrade(container.engine)
    stream_id = container.store.resolve(USERNAME.format(username.lower()))
    if stream_id is None:
        raise click.ClickException(f"No user named {username!r}.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user_id = stream_id.removeprefix("user-")
    try:
        PasswordStore(container.engine).set(user_id, password)
    except WeakPassword as exc:
        raise click.ClickException(str(exc)) from None
    container.bus.handle(RecordPasswordSet(user_id=user_id))
    click.echo(f"Password set for {username}.")


@main.group()
def events() -> None:
    """Read the event log."""


@events.command("tail")
@click.option("--after", default=0, show_default=True, type=click.IntRange(min=0),
              help="Print events with a global position above this one.")
@click.option("--follow", "-f", is_flag=True, help="Keep waiting for new events (Ctrl-C to stop).")
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Stop after this many events.")
def events_tail(after: int, follow: bool, limit: int | None) -> None:
    """Print events as JSON lines, in global position order."""
    store = current_container().store
    printed = 0
    try:
        while True:
            for event in store.iter_all(after):
                sys.stdout.write(json.dumps(event.as_dict()) + "\n")
                after = event.global_position
                printed += 1
                if limit is not None and printed >= limit:
                    return
            sys.stdout.flush()
            if not follow:
                return
            time.sleep(0.5)
    except KeyboardInterrupt:
        return


# Every command group of the other modules, in one table: `worker-runs --help` lists them.
for command in (
    cli_projections.projections, cli_projections.relay, cli_projections.worker, cli_projections.serve,
    cli_api.openapi, cli_api.api,
    cli_integrations.audit, cli_integrations.webhooks,
    cli_provenance.provenance,
    bench,
    cli_runs.runs,  # issue 14: the one-step run
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
