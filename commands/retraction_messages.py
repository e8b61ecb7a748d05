"""The command of issue 14's "Retract a run"."""

from __future__ import annotations

from dataclasses import dataclass

from commands.messages import Command


@dataclass(frozen=True)
class RetractRun(Command):
    """Withdraw everything a user worker run signed. Named `run_id`, not `worker_run_id`: the
    bus stores a command's `worker_run_id` as the run *signing* its events, which this is not."""

    run_id: str
