"""`worker-runs runs`: a user's worker runs from the command line (issue 14).

`runs create` is the one-step run: the worker, a version and the run in one command (one
QuickUserRun, so one transaction), the run ID alone on the last line for scripts:
`export ARKINDEX_WORKER_RUN_ID=$(worker-runs runs create --user alice --worker my-ocr | tail -n1)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from commands.aliases import USERNAME
from commands.messages import QuickUserRun
from commands.rehydrate import load
from domain.actor import Actor, slugify
from domain.errors import DomainError
from domain.user import User
from eventstore.migrate import upgrade
from worker_runs import cli_retract
from worker_runs.cli_context import current_container
from worker_runs.git_checkout import GitError, read_checkout


@click.group("runs")
def runs() -> None:
    """A user's worker runs (the IDs base-worker reads from ARKINDEX_WORKER_RUN_ID)."""


def _user(username: str) -> Actor:
    container = current_container()
    stream_id = container.store.resolve(USERNAME.format(username.lower()))
    user = load(container.store, User, stream_id) if stream_id is not None else None
    if user is None or not user.exists:
        # A usage error (exit code 2), like any other bad argument.
        raise click.BadParameter(
            f"no user named {username!r} (create one with `worker-runs users create {username}`).",
            param_hint="--user",
        )
    return Actor(user.user_id, user.is_admin)


@runs.command("create")
@click.option("--user", "username", required=True, metavar="USERNAME", help="Whose run it is.")
@click.option(
    "--worker", "worker_name", required=True, metavar="NAME",
    help="The worker's name; its slug (derived from it) finds an existing worker, else one is created.",
)
@click.option("--type", "worker_type", default=None, metavar="T",
              help="The type of a worker created now (default: worker); an existing worker keeps its own.")
@click.option("--docker-image", default=None, metavar="TAG",
              help="The version's docker image: the newest version with it is used, else one is created.")
@click.option(
    "--from-git", "git_path", is_flag=False, flag_value=".", default=None,
    type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="[PATH]",
    help="Fill the version from the git checkout at PATH (default: here): its commit is the revision "
         "and `origin` the repository URL. The same commit again answers the run it already has.",
)
def runs_create(
    username: str, worker_name: str, worker_type: str | None, docker_image: str | None, git_path: Path | None,
) -> None:
    """Create what is missing (worker, version) and USER's run, in one step.

    Without --from-git or --docker-image the worker's newest usable version is used (a blank
    local version is created when it has none), and its run is answered when you already have
    one. Progress goes to the first lines, warnings to stderr, and the run ID alone to the last
    line of stdout:

    \b
        export ARKINDEX_WORKER_RUN_ID=$(worker-runs runs create \\
            --user alice --worker "My OCR" --from-git | tail -n 1)
    """
    container = current_container()
    upgrade(container.engine)
    actor = _user(username)
    revision_url = repository_url = None
    if git_path is not None:
        try:
            checkout = read_checkout(git_path.resolve())
        except GitError as exc:
            raise click.BadParameter(str(exc), param_hint="--from-git") from None
        if checkout.dirty:
            click.echo(
                f"Warning: {git_path.resolve()} has uncommitted changes; the run is recorded for commit "
                f"{checkout.commit[:12]}, which does not contain them.", err=True,
            )
        if checkout.repository_url is None:
            click.echo(
                "No `origin` remote: the version records the commit without a repository URL.", err=True,
            )
        revision_url, repository_url = checkout.revision_url, checkout.repository_url
    command = QuickUserRun(
        name=worker_name, type=worker_type or "worker", docker_image_iid=docker_image,
        revision_url=revision_url, repository_url=repository_url,
    )
    try:
        data = container.bus.handle(command, actor=actor).data
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    for line in _story(data, worker_type, git_path is not None):
        click.echo(line)
    click.echo(data["run_id"])


def _story(data: dict[str, Any], worker_type: str | None, from_git: bool) -> list[str]:
    """What the command did, for a person: one line per object."""
    worker = f"{data['worker_name']} [{data['worker_slug']}], type {data['worker_type']}"
    if data["worker_created"]:
        lines = [f"Created worker {worker}."]
    else:
        lines = [f"Using existing worker {worker}."]
        if worker_type is not None and slugify(worker_type) != data["worker_type"]:
            click.echo(f"Warning: the existing worker keeps its type {data['worker_type']!r}.", err=True)
    version = f"version {data['version_number']}" + (
        f" ({data['revision_url']})" if data["revision_url"] else ""
    )
    verb = "Created" if data["version_created"] else "Using"
    lines.append(f"{verb} {version}: {data['worker_version_id']}.")
    if data["run_created"]:
        lines.append("Created your run on it. Run ID:")
    elif from_git:
        lines.append("This commit already has your run. Run ID:")
    else:
        lines.append("This version already has your run. Run ID:")
    return lines


runs.add_command(cli_retract.retract)
