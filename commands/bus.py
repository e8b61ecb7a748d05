"""The command bus: run a handler in a unit of work, retry on conflicts, dedupe by command id."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commands.aggregate_cache import AggregateCache
from commands.errors import CommandConflict, IdempotencyKeyReused
from commands.messages import Command, SignedByRun
from commands.unit_of_work import UnitOfWork
from domain.actor import SYSTEM, Actor
from eventstore import CommandRecord, ConcurrencyConflict, EventStore, Metadata

Handler = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class CommandResult:
    data: dict[str, Any]
    #: position of the command's last event (or of the state it answered from): a reader
    #: that waits for it reads its own write
    position: int | None
    #: True when a command with the same id had already run and its answer is replayed
    replayed: bool = False


def request_hash(command: Command, actor: Actor | None = None) -> str:
    # The caller is part of the request: another user replaying someone's idempotency key
    # must get IdempotencyKeyReused, never the first caller's answer (ids of private objects).
    body = json.dumps(
        {
            "type": type(command).__name__,
            "fields": dataclasses.asdict(command),
            "actor": None if actor is None else actor.user_id,
        },
        sort_keys=True, default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


class CommandBus:
    def __init__(
        self,
        store: EventStore,
        handlers: dict[type[Command], Handler],
        *,
        clock: Callable[[], datetime],
        ids: Callable[[], str],
        max_attempts: int = 25,
        services: Mapping[str, Any] | None = None,
        aggregates: AggregateCache | None = None,
    ) -> None:
        self.store = store
        #: aggregates left by this process's last commands (None: replay every stream)
        self.aggregates = aggregates
        #: collaborators handlers may name besides `uow` and `actor` (e.g. `iiif`, the IIIF
        #: info.json fetcher), injected by parameter name; built in worker_runs.bootstrap
        self.services = dict(services or {})
        self.handlers = handlers
        self.clock = clock
        self.ids = ids
        self.max_attempts = max_attempts

    def handle(
        self,
        command: Command,
        *,
        actor: Actor = SYSTEM,
        command_id: str | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Run `command` as `actor`. With a `command_id`, a repeat gets the first answer.

        A command signed by a worker run (SignedByRun) carries the run: the handler checks it
        and its events record it in their indexed `worker_run_id` column.
        """
        handler = self.handlers[type(command)]
        # Only an idempotent command is compared with its first run.
        digest = request_hash(command, actor) if command_id is not None else ""
        causation_id = command_id or str(uuid.uuid4())
        for attempt in range(self.max_attempts):
            if command_id is not None and attempt == 0:
                # (After a conflict the except clause below has looked already.)
                replay = self._replay(command_id, digest)
                if replay is not None:
                    return replay
            uow = UnitOfWork(self.store, self.clock, self.ids, self.aggregates)
            data = _call(handler, command, uow=uow, actor=actor, **self.services)
            metadata = Metadata(
                actor_type="system" if actor is SYSTEM else "user",
                actor_id=actor.user_id,
                correlation_id=correlation_id or causation_id,
                causation_id=causation_id,
                occurred_at=self.clock(),
                command_id=command_id,
                worker_run_id=command.worker_run_id if isinstance(command, SignedByRun) else None,
            )
            record = None
            if command_id is not None:
                record = CommandRecord(command_id, type(command).__name__, digest, {"data": data})
            try:
                position = uow.commit(metadata, record)
            except ConcurrencyConflict:
                # A repeat of this command that committed first gets its answer; a unique
                # claim (a username) taken by another stream, its named domain error.
                if command_id is not None:
                    replay = self._replay(command_id, digest)
                    if replay is not None:
                        return replay
                uow.raise_taken()
                # Someone else appended first: reload and decide again, after a short,
                # jittered pause so racing writers spread out.
                time.sleep(random.uniform(0, min(0.2, 0.002 * 2 ** attempt)))
                continue
            return CommandResult(data, position)
        raise CommandConflict("Too many concurrent changes to the same object; try again.")

    def _replay(self, command_id: str, digest: str) -> CommandResult | None:
        record = self.store.get_command(command_id)
        if record is None:
            return None
        if record.request_hash != digest:
            raise IdempotencyKeyReused(
                "This idempotency key was already used with a different request.", field=None,
            )
        return CommandResult(record.response.get("data", {}), record.position, replayed=True)


def _call(handler: Handler, command: Command, **deps: Any) -> dict[str, Any]:
    # Inject dependencies by parameter name, as cosmicpython's bootstrap does.
    params = _parameters(handler)
    return handler(command, **{name: dep for name, dep in deps.items() if name in params})


@functools.cache
def _parameters(handler: Handler) -> frozenset[str]:
    # Read once per handler: inspecting a signature costs more than many a handler's decision.
    return frozenset(inspect.signature(handler).parameters)
