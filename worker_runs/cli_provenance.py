"""`worker-runs provenance`: what a worker run produced, and which run produced an object.

Reads the `documents`, `user_runs` and `catalog` read models directly (an operator command,
like `events tail`: it sees every user's objects), after waiting briefly for them to reach
the head of the event log so that what was just published is listed.
"""

from __future__ import annotations

import json
from typing import Any

import click

from domain.actor import SYSTEM
from worker_runs.cli_context import current_container

#: rows read per query while listing everything (keyset pages)
PAGE_SIZE = 500


def _run_details(run: Any) -> dict[str, Any]:
    """The WorkerRun shape (api/catalog/schemas.py): worker, version, configuration, model."""
    from api.catalog.schemas import worker_run_schema

    details: dict[str, Any] = worker_run_schema.dump(run)
    return details


def _describe_run(details: dict[str, Any]) -> list[str]:
    version = details["worker_version"]
    worker = version["worker"]
    configuration = details["configuration"]
    model_version = details["model_version"]
    number = version["version"] if version["version"] is not None else version["revision_url"]
    return [
        f"Worker run     {details['id']}  ({details['summary']})",
        f"Worker         {worker['name']} [{worker['slug']}], type {worker['type']}",
        f"Version        {number} ({version['id']}), state {version['state']}",
        "Configuration  "
        + (
            f"{configuration['name']} ({configuration['id']}): {json.dumps(configuration['configuration'])}"
            if configuration
            else "none"
        ),
        "Model          "
        + (
            f"{model_version['model']['name']} version {model_version['number']} ({model_version['id']})"
            if model_version
            else "none"
        ),
    ]


@click.command("provenance")
@click.argument("run_id", required=False)
@click.option("--object", "object_id", default=None, help="Print which run (or user) produced this object.")
@click.option("--user", "user_id", default=None, help="List what this user created without a worker run.")
@click.option(
    "--type",
    "object_type",
    type=click.Choice(["element", "transcription", "classification", "metadata"]),
    default=None,
    help="Only objects of this type.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.option(
    "--wait",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds to wait for the read models to reach the end of the event log.",
)
def provenance(
    run_id: str | None,
    object_id: str | None,
    user_id: str | None,
    object_type: str | None,
    as_json: bool,
    wait: float,
) -> None:
    """Provenance of published objects.

    \b
    worker-runs provenance RUN_ID        what the worker run RUN_ID produced, in order
    worker-runs provenance --object ID   which run (worker, version, configuration, model) made ID
    worker-runs provenance --user ID     what user ID created without a worker run
    """
    from projections import document_queries as dq
    from projections import queries as q
    from projections.consistency import wait_for_position

    if sum(x is not None for x in (run_id, object_id, user_id)) != 1:
        raise click.UsageError("Give exactly one of RUN_ID, --object ID or --user ID.")
    container = current_container()
    names = [q.CATALOG, q.USER_RUNS, dq.DOCUMENTS]
    if not wait_for_position(container.engine, container.store.head(), names=names, timeout=wait):
        click.echo(
            "warning: the read models are behind the event log; recent objects may be missing.", err=True
        )
    with container.engine.connect() as conn:
        if object_id is not None:
            _print_object(conn, object_id, as_json)
            return
        if run_id is not None:
            run = q.get_user_run(conn, SYSTEM, run_id)
            if run is None:
                raise click.ClickException(f"No such worker run: {run_id}")
            header = _describe_run(_run_details(run))
        else:
            header = [f"Created by user {user_id} without a worker run"]
        keyset, rows = q.Keyset(limit=PAGE_SIZE), list[Any]()
        while True:  # every page, by keyset (no OFFSET rescans): the command prints everything
            page = dq.list_signed(
                conn, worker_run_id=run_id, user_id=user_id, type=object_type, keyset=keyset
            )
            rows.extend(page.rows)
            if not page.has_next:
                break
            keyset = q.Keyset(after=page.key(page.rows[-1]), limit=PAGE_SIZE)
    if as_json:
        for row in rows:
            click.echo(
                json.dumps(
                    {
                        "type": row["type"],
                        "id": row["id"],
                        "element_id": row["element_id"],
                        "label": row["label"],
                        "worker_run_id": row["worker_run_id"],
                        "user_id": row["user_id"],
                        "created": row["created_at"].isoformat(),
                    }
                )
            )
        return
    for line in header:
        click.echo(line)
    click.echo(f"{len(rows)} object(s):")
    for row in rows:
        label = (row["label"] or "").replace("\n", " ")
        label = label if len(label) <= 40 else label[:39] + "…"
        click.echo(f"  {row['type']:<14} {row['id']}  on {row['element_id'] or '-':<36}  {label}")


def _print_object(conn: Any, object_id: str, as_json: bool) -> None:
    from projections import document_queries as dq
    from projections import queries as q

    found = dq.find_signed(conn, SYSTEM, object_id)
    if found is None:
        raise click.ClickException(f"No such object: {object_id}")
    run_id = found.row["worker_run_id"]
    run = q.get_user_run(conn, SYSTEM, run_id) if run_id else None
    details = _run_details(run) if run is not None else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": object_id,
                    "type": found.type,
                    "user_id": found.row["user_id"],
                    "created": found.row["created_at"].isoformat(),
                    "worker_run_id": run_id,
                    "worker_run": details,
                },
                default=str,
            )
        )
        return
    click.echo(
        f"{found.type} {object_id}, created {found.row['created_at'].isoformat()} "
        f"by user {found.row['user_id']}"
    )
    if run_id is None:
        click.echo("Not signed by a worker run: created by the user directly.")
    elif details is None:
        click.echo(f"Signed by worker run {run_id} (not projected yet).")
    else:
        click.echo("Signed by:")
        for line in _describe_run(details):
            click.echo("  " + line)
