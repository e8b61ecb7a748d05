"""The container every `worker-runs` command uses: one per command line, built on first
use, so `--help` needs no database."""

from __future__ import annotations

import click

from worker_runs.bootstrap import Container, bootstrap


def current_container() -> Container:
    root = click.get_current_context().find_root()
    if "container" not in root.meta:
        root.meta["container"] = bootstrap()
    return root.meta["container"]
