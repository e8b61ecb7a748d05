"""The `LocalProcess` aggregate (stream `local-process-<user uuid>`).

Each user has one personal process in `local` mode holding their user worker runs. The
invariant "one user worker run per worker version per user" is decided here: two racing
requests load the same stream version, the event store lets exactly one append win, and
the loser re-loads, re-decides and gets `UserRunAlreadyExists` with the winner's run id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.errors import NotFound, RunAlreadyRetracted, RunRetracted, UserRunAlreadyExists
from domain.events import UserWorkerRunCreated, WorkerRunRetracted

# Process ids are derived from the user id, so the process needs no creation event of its
# own and its id is known before its first run exists.
_PROCESS_NAMESPACE = uuid.UUID("6f1d2c5e-8a4b-4e57-9d0c-3b7f2a9e1c44")


def local_process_id(user_id: str) -> str:
    return str(uuid.uuid5(_PROCESS_NAMESPACE, user_id))


def local_process_stream(user_id: str) -> str:
    return f"local-process-{user_id}"


@dataclass(frozen=True)
class RunState:
    run_id: str
    worker_id: str
    worker_version_id: str
    summary: str
    configuration_id: str | None
    model_version_id: str | None


class LocalProcess(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.runs: dict[str, RunState] = {}  # run id -> run
        self.run_by_version: dict[str, str] = {}  # worker version id -> run id
        self.retracted: dict[str, str] = {}  # run id -> who retracted it (issue 14)

    @property
    def user_id(self) -> str:
        """The owner: the process id is derived from the user id, and so is the stream."""
        return self.stream_id.removeprefix(local_process_stream(""))

    def create_user_run(
        self, *, user_id: str, run_id: str, worker_id: str, worker_version_id: str, summary: str,
        configuration_id: str | None = None, model_version_id: str | None = None,
    ) -> None:
        # Whatever the configuration or model: the seed says a new run needs a new version.
        existing = self.run_by_version.get(worker_version_id)
        if existing is not None:
            raise UserRunAlreadyExists(existing)
        self._record(UserWorkerRunCreated(
            process_id=local_process_id(user_id), user_id=user_id, run_id=run_id, worker_id=worker_id,
            worker_version_id=worker_version_id, summary=summary,
            configuration_id=configuration_id, model_version_id=model_version_id,
        ))

    def retract_run(self, run_id: str, actor: Actor) -> None:
        """Withdraw everything the run signed (issue 14): its owner or an administrator. Anyone
        else is answered like for a run that does not exist (runs are personal)."""
        if run_id not in self.runs or not (actor.is_admin or actor.user_id == self.user_id):
            raise NotFound("No such worker run.")
        if run_id in self.retracted:
            raise RunAlreadyRetracted("This worker run was already retracted: nothing it signed is listed.")
        self._record(WorkerRunRetracted(
            process_id=local_process_id(self.user_id), user_id=self.user_id, run_id=run_id,
            retracted_by=actor.user_id,
        ))

    def check_can_sign(self, run_id: str) -> None:
        """A retracted run signs nothing more: its results would be hidden as soon as written."""
        if run_id in self.retracted:
            raise RunRetracted("This worker run was retracted: it cannot sign results any more.")

    def when_UserWorkerRunCreated(self, e: UserWorkerRunCreated) -> None:
        self.runs[e.run_id] = RunState(
            run_id=e.run_id, worker_id=e.worker_id, worker_version_id=e.worker_version_id,
            summary=e.summary, configuration_id=e.configuration_id, model_version_id=e.model_version_id,
        )
        self.run_by_version[e.worker_version_id] = e.run_id

    def when_WorkerRunRetracted(self, e: WorkerRunRetracted) -> None:
        self.retracted[e.run_id] = e.retracted_by


def default_summary(worker_name: str, version_number: int, revision_url: str | None) -> str:
    """Arkindex-style summary: "Worker <name> @ <version or short revision>"."""
    if revision_url:
        return f"Worker {worker_name} @ {revision_url.rstrip('/').rsplit('/', 1)[-1][:8]}"
    return f"Worker {worker_name} @ version {version_number}"
