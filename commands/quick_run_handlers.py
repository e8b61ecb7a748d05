"""Issue 14, the one-step run: QuickUserRun gets or creates the worker, a version and the
caller's run in one unit of work, so the streams it touches (worker type, worker, local
process) and the aliases it claims are appended in one transaction or not at all. Racing
quick runs conflict on those streams and aliases; the losers reload and answer the winner's
run (commands/bus.py retries)."""

from __future__ import annotations

from typing import Any

from commands import messages as m
from commands.aliases import WORKER_RUN, WORKER_VERSION
from commands.bus import Handler
from commands.handlers import get_or_create_worker
from commands.unit_of_work import UnitOfWork
from domain.actor import Actor, slugify
from domain.errors import InvalidValue, PermissionDenied
from domain.local_process import LocalProcess, default_summary, local_process_stream


def worker_slug(name: str) -> str:
    """The slug a worker name stands for: the same rule as CreateWorker without a slug."""
    return slugify(name)[:100].strip("-")


def quick_user_run(cmd: m.QuickUserRun, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    slug = (cmd.slug or "").strip() or worker_slug(cmd.name)
    if not slug:
        raise InvalidValue("This worker name has no letter or digit to derive a slug from.", field="name")
    worker, worker_created = get_or_create_worker(
        uow, actor, name=cmd.name.strip(), slug=slug, type=cmd.type, repository_url=cmd.repository_url,
    )
    version = worker.version_for_run(
        actor, revision_url=cmd.revision_url, docker_image_iid=cmd.docker_image_iid,
    )
    version_created = version is None
    if version is None:
        if not worker.can_manage(actor):
            # A worker shared with the caller: its versions are its owner's to make.
            raise PermissionDenied(
                "This worker has no version you can use, and only its owner may create one.",
            )
        version_id = uow.new_id()
        fields = {"revision_url": cmd.revision_url, "docker_image_iid": cmd.docker_image_iid}
        worker.create_version(actor, version_id, {k: v for k, v in fields.items() if v})
        uow.claim(WORKER_VERSION.format(version_id), worker.stream_id)
        version = worker.versions[version_id]
    process = uow.load(LocalProcess, local_process_stream(actor.user_id))
    # The run this version already has answers a repeat (the same commit, run again); the
    # aggregate still refuses a second one, whoever asks.
    run_id = process.run_by_version.get(version.version_id)
    run_created = run_id is None
    if run_id is None:
        run_id = uow.new_id()
        process.create_user_run(
            user_id=actor.user_id, run_id=run_id, worker_id=worker.worker_id,
            worker_version_id=version.version_id,
            summary=default_summary(worker.name, version.number, version.revision_url),
        )
        uow.claim(WORKER_RUN.format(run_id), process.stream_id)
    return {
        "run_id": run_id, "run_created": run_created,
        "worker_id": worker.worker_id, "worker_created": worker_created, "worker_slug": worker.slug,
        "worker_name": worker.name, "worker_type": worker.type,
        "worker_version_id": version.version_id, "version_created": version_created,
        "version_number": version.number, "revision_url": version.revision_url,
    }


QUICK_RUN_HANDLERS: dict[type[m.Command], Handler] = {m.QuickUserRun: quick_user_run}
