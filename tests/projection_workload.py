"""A realistic command mix for projection tests and benchmarks, and read-model snapshots.

`Workload` issues commands through the real bus (so the events are the real ones): users,
workers of several types, access grants, versions (some updated, archived), worker updates,
configurations, models and model versions, and user worker runs. `snapshot` reads every
read-model row of a generation, without the generation column, for equality checks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from commands import messages as m
from commands.bus import CommandBus
from domain.actor import Actor
from domain.errors import DomainError
from projections.envelope import Envelope
from projections.generations import live_generation
from projections.ops import Op
from projections.registry import PROJECTIONS, Projection
from projections.tables import metadata


@dataclass
class Workload:
    bus: CommandBus
    seed: int = 0
    users: list[Actor] = field(default_factory=list)
    workers: list[tuple[Actor, str]] = field(default_factory=list)  # (owner, worker id)
    versions: list[tuple[Actor, str, str]] = field(default_factory=list)  # (owner, worker, version)
    models: list[tuple[Actor, str]] = field(default_factory=list)
    runs: list[tuple[Actor, str]] = field(default_factory=list)  # (user, run id)
    commands: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def user(self) -> Actor:
        name = f"u{self.seed}-{len(self.users)}-{self.rng.randrange(10**9)}"
        result = self.bus.handle(m.RegisterUser(name, f"{name}@example.org", False))
        self.commands += 1
        actor = Actor(result.data["user_id"])
        self.users.append(actor)
        return actor

    def worker(self, owner: Actor | None = None) -> str:
        owner = owner or self._pick_user()
        slug = f"w{self.seed}-{len(self.workers)}-{self.rng.randrange(10**9)}"
        kind = self.rng.choice(["OCR", "Classifier", "Layout analysis", "NER"])
        worker_id = self.bus.handle(m.CreateWorker(name=f"Worker {slug}", slug=slug, type=kind),
                                    actor=owner).data["worker_id"]
        self.commands += 1
        self.workers.append((owner, worker_id))
        return worker_id

    def version(self, owner: Actor | None = None, worker_id: str | None = None) -> tuple[str, int]:
        if worker_id is None:
            owner, worker_id = self.rng.choice(self.workers)
        assert owner is not None
        result = self.bus.handle(
            m.CreateWorkerVersion(worker_id, {"configuration": {"n": self.rng.randrange(100)}}), actor=owner,
        )
        self.commands += 1
        self.versions.append((owner, worker_id, result.data["version_id"]))
        return result.data["version_id"], result.position or 0

    def run(self, user: Actor | None = None, version_id: str | None = None) -> tuple[str, int]:
        """A user worker run on a fresh version (a run needs a new version): two commands."""
        if version_id is None:
            owner, worker_id = self.rng.choice(self.workers)
            user = user or owner
            if user.user_id != owner.user_id:
                self.bus.handle(m.GrantWorkerAccess(worker_id, user.user_id), actor=owner)
                self.commands += 1
            version_id, _ = self.version(owner, worker_id)
        assert user is not None
        result = self.bus.handle(m.CreateUserRun(version_id), actor=user)
        self.commands += 1
        self.runs.append((user, result.data["run_id"]))
        return result.data["run_id"], result.position or 0

    def random_command(self) -> int:
        """One random command (or a short dependent pair); the position it ended at."""
        if len(self.users) < 2:
            self.user()
        if not self.workers:
            self.worker()
        choice = self.rng.random()
        try:
            if choice < 0.08:
                self.user()
            elif choice < 0.18:
                self.worker()
            elif choice < 0.35:
                self.version()
            elif choice < 0.45 and self.versions:
                owner, _, version_id = self.rng.choice(self.versions)
                changes = self.rng.choice([
                    {"state": "error"}, {"archived": True}, {"tag": f"t{self.rng.randrange(10**9)}"},
                    {"gpu_usage": "supported"},
                ])
                self.bus.handle(m.UpdateWorkerVersion(version_id, changes), actor=owner)
                self.commands += 1
            elif choice < 0.52:
                owner, worker_id = self.rng.choice(self.workers)
                changes = self.rng.choice([
                    {"description": f"d{self.rng.randrange(1000)}"},
                    {"name": f"Renamed {self.rng.randrange(1000)}"},
                    {"type": self.rng.choice(["OCR", "Other"])},
                ])
                self.bus.handle(m.UpdateWorker(worker_id, changes), actor=owner)
                self.commands += 1
            elif choice < 0.57:
                owner, worker_id = self.rng.choice(self.workers)
                self.bus.handle(m.CreateWorkerConfiguration(worker_id, f"c{self.rng.randrange(10**9)}",
                                                            {"k": self.rng.randrange(10)}, []), actor=owner)
                self.commands += 1
            elif choice < 0.62:
                owner = self._pick_user()
                model_id = self.bus.handle(m.CreateModel(f"model {self.rng.randrange(10**9)}"),
                                           actor=owner).data["model_id"]
                self.commands += 1
                self.models.append((owner, model_id))
                self.bus.handle(m.CreateModelVersion(model_id, {"x": 1}), actor=owner)
                self.commands += 1
            else:
                self.run(self._pick_user())
        except DomainError:
            pass  # e.g. a run on an archived version: refused, nothing appended
        return self.bus.store.head()

    def _pick_user(self) -> Actor:
        if not self.users:
            return self.user()
        return self.rng.choice(self.users)


def read_model_tables(names: list[str] | None = None) -> list[str]:
    return [t for n in (names or list(PROJECTIONS)) for t in PROJECTIONS[n].tables]


def _normalise(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def snapshot(engine: Engine, name: str, generation: int | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of projection `name` in `generation` (default: live), sorted, generation-less."""
    result = {}
    with engine.connect() as conn:
        gen = live_generation(conn, name) if generation is None else generation
        for table_name in PROJECTIONS[name].tables:
            table = metadata.tables[table_name]
            columns = [c for c in table.columns if c.name != "generation"]
            rows = conn.execute(sa.select(*columns).where(table.c.generation == gen))
            result[table_name] = sorted(
                (tuple(_normalise(v) for v in row) for row in rows), key=repr,
            )
    return result


def row_count(engine: Engine, table_name: str, generation: int | None = None) -> int:
    table = metadata.tables[table_name]
    query = sa.select(sa.func.count()).select_from(table)
    if generation is not None:
        query = query.where(table.c.generation == generation)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


class ProjectorBug(Exception):
    pass


class BrokenFor:
    """user_runs, except that it raises for one stream until `fixed`."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.fixed = False
        self.calls = 0
        original = PROJECTIONS["user_runs"]

        def handle(envelope: Envelope[Any]) -> list[Op]:
            if envelope.stream_id == self.stream_id and not self.fixed:
                self.calls += 1
                raise ProjectorBug(f"cannot project {type(envelope.event).__name__}")
            return original.projectors[type(envelope.event)](envelope)

        self.projection = Projection("user_runs", {t: handle for t in original.projectors}, original.tables)
