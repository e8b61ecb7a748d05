"""Handler of RetractRun (issue 14), registered in COMMAND_HANDLERS."""

from __future__ import annotations

from typing import Any

from commands import retraction_messages as rm
from commands.aliases import WORKER_RUN
from commands.bus import Handler
from commands.messages import Command
from commands.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.local_process import LocalProcess


def retract_run(cmd: rm.RetractRun, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    # No field: the run is the path's id, so an unknown run is a plain 404.
    process = uow.find(LocalProcess, WORKER_RUN.format(cmd.run_id), "No such worker run.")
    process.retract_run(cmd.run_id, actor)
    return {"run_id": cmd.run_id, "user_id": process.user_id}


RETRACTION_HANDLERS: dict[type[Command], Handler] = {
    rm.RetractRun: retract_run,
}
