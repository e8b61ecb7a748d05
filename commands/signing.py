"""Who signs the objects a command creates (documents, issue 5; shared by every handler module
that publishes: commands/handlers.py, commands/entity_handlers.py)."""

from __future__ import annotations

from commands.aliases import WORKER_RUN
from commands.messages import SignedByRun
from commands.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.documents import Signature, check_signing_run
from domain.errors import VersionNotUsable
from domain.local_process import LocalProcess
from domain.worker import Worker, worker_stream


def signature_for(uow: UnitOfWork, actor: Actor, command: SignedByRun) -> Signature:
    """Who signs the objects of this command: the caller, and the worker run if it names one.

    The run must exist, be the caller's own (user worker runs are personal) and its worker
    version must still be usable; otherwise the command is refused before anything is written.
    """
    worker_run_id = command.worker_run_id
    if worker_run_id is None:
        return Signature(actor.user_id)
    process = uow.find(LocalProcess, WORKER_RUN.format(worker_run_id), "No such worker run.", "worker_run_id")
    check_signing_run(process.user_id, actor)
    run = process.runs[worker_run_id]
    process.check_can_sign(worker_run_id)  # issue 14: a retracted run signs nothing more
    worker = uow.get(Worker, worker_stream(run.worker_id), "No such worker run.", "worker_run_id")
    try:
        worker.usable_version(run.worker_version_id, actor)
    except VersionNotUsable:
        raise VersionNotUsable(
            "The worker version of this worker run is archived or in error: it cannot sign results.",
            field="worker_run_id",
        ) from None
    return Signature(actor.user_id, worker_run_id)
