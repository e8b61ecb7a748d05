"""The container every `worker-runs` command uses: one per command line, built on first
use, so `--help` needs no database; and the errors of that wiring, said in one line."""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa
from environs import EnvError

from domain.events import EventDecodeError
from worker_runs.bootstrap import Container, bootstrap


def current_container() -> Container:
    root = click.get_current_context().find_root()
    if "container" not in root.meta:
        root.meta["container"] = bootstrap()
    return root.meta["container"]


class CliGroup(click.Group):
    """The root group: configuration and connection problems become a one-line error and
    exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EnvError as exc:
            raise click.ClickException(f"Invalid configuration: {exc}") from None
        except sa.exc.ArgumentError as exc:
            raise click.ClickException(f"Invalid WORKER_RUNS_DATABASE_URL: {exc}") from None
        except sa.exc.OperationalError as exc:
            raise click.ClickException(
                f"Cannot use the database ({type(exc.orig).__name__}: {str(exc.orig).strip()}); "
                "check WORKER_RUNS_DATABASE_URL and that the server is running."
            ) from None
        except EventDecodeError as exc:
            # A deployment fault (an event written by a newer version): say which, not a traceback.
            raise click.ClickException(
                f"This version cannot read an event it has stored: {exc}. "
                "Run the version of worker-runs that wrote it (or deploy its upcaster)."
            ) from None
