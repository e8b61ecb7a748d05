"""`worker-runs runs`: user worker runs from the command line (issue 14)."""

from __future__ import annotations

import click

from worker_runs import cli_retract


@click.group()
def runs() -> None:
    """User worker runs."""


runs.add_command(cli_retract.retract)
