"""Realistic generated data for the bench, appended straight to the event store with the
domain's own event classes and aliases (so the aggregates and projections read them like events
the bus wrote): many users, workers with many versions, user worker runs, a few heavy users.

Appending directly keeps the set-up of a million events to minutes; what is timed always goes
through the bus, the runner or the HTTP app."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from commands.aliases import TOKEN, USERNAME, WORKER_RUN, WORKER_SLUG, WORKER_VERSION
from commands.tokens import generate_token, hash_token
from domain.documents import element_stream
from domain.events import (
    DomainEvent,
    ElementCreated,
    TokenIssued,
    UserRegistered,
    UserWorkerRunCreated,
    WorkerAccessGranted,
    WorkerCreated,
    WorkerTypeCreated,
    WorkerVersionCreated,
)
from domain.local_process import local_process_id, local_process_stream
from domain.user import user_stream
from domain.worker import worker_stream, worker_type_stream
from eventstore import EventStore, Metadata, NewEvent, StreamAppend

SYSTEM_ACTOR = "system"
WORKER_TYPES = ("ocr", "layout", "classifier", "ner", "htr")
NAME_WORDS = ("tesseract", "kraken", "pylaia", "doctr", "yolo", "dla", "ner", "spacy", "trocr", "loghi",
              "escriptorium", "calamari", "pero", "transkribus", "segmenter", "classifier", "dating")


def _new_events(events: list[DomainEvent]) -> list[NewEvent]:
    return [NewEvent(e.event_type, e.to_payload(), e.schema_version) for e in events]


def metadata(actor_id: str = SYSTEM_ACTOR) -> Metadata:
    return Metadata(actor_type="system" if actor_id == SYSTEM_ACTOR else "user", actor_id=actor_id,
                    correlation_id=str(uuid.uuid4()), causation_id="bench-seed",
                    occurred_at=datetime.now(UTC))


@dataclass
class Batch:
    """Appends gathered into one transaction of about `size` events, by one actor (the audit
    trail then tells users apart)."""

    store: EventStore
    size: int = 500
    appends: list[StreamAppend] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    events: int = 0
    written: int = 0
    actor: str = SYSTEM_ACTOR
    _streams: set[str] = field(default_factory=set)

    def add(self, stream_id: str, expected_version: int, events: list[DomainEvent],
            aliases: dict[str, str] | None = None, actor: str = SYSTEM_ACTOR) -> None:
        # The store checks one expected version per stream and transaction.
        if stream_id in self._streams or actor != self.actor:
            self.flush()
        self.actor = actor
        self._streams.add(stream_id)
        self.appends.append(StreamAppend(stream_id, expected_version, _new_events(events)))
        self.aliases.update(aliases or {})
        self.events += len(events)
        if self.events >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.appends:
            self.store.append(self.appends, metadata=metadata(self.actor), aliases=self.aliases)
            self.written += self.events
        self.appends, self.aliases, self.events, self._streams = [], {}, 0, set()


def elements(store: EventStore, owner_id: str, corpus_id: str, count: int, type: str,
             parent_id: str | None = None) -> list[str]:
    """`count` elements of type `type` (the corpus's own slug) in the corpus, by its owner,
    children of `parent_id` if given."""
    batch = Batch(store, size=2000)
    ids = []
    for n in range(count):
        element_id = str(uuid.uuid4())
        ids.append(element_id)
        batch.add(element_stream(element_id), 0, [ElementCreated(
            element_id=element_id, corpus_id=corpus_id, type=type, name=f"{type} {n}", user_id=owner_id,
            parent_id=parent_id)],
            actor=owner_id)
    batch.flush()
    return ids


@dataclass
class WorkerSeed:
    worker_id: str
    owner_id: str
    name: str
    version_ids: list[str]


def worker_types(batch: Batch) -> None:
    for slug in WORKER_TYPES:
        batch.add(worker_type_stream(slug), 0,
                  [WorkerTypeCreated(type_id=str(uuid.uuid4()), slug=slug, display_name=slug.upper())])


def users(batch: Batch, count: int, prefix: str = "user", tokens: dict[str, str] | None = None) -> list[str]:
    """`count` new users; with `tokens`, each also gets an API token (tokens[user id] = token)."""
    ids = []
    for _ in range(count):
        user_id = str(uuid.uuid4())
        name = f"{prefix}-{user_id[:8]}"
        stream = user_stream(user_id)
        events: list[DomainEvent] = [UserRegistered(user_id=user_id, username=name)]
        aliases = {USERNAME.format(name): stream}
        if tokens is not None:
            tokens[user_id] = generate_token()
            events.append(TokenIssued(user_id=user_id, token_id=str(uuid.uuid4()),
                                      token_hash=hash_token(tokens[user_id]), label="bench"))
            aliases[TOKEN.format(hash_token(tokens[user_id]))] = stream
        batch.add(stream, 0, events, aliases)
        ids.append(user_id)
    return ids


def worker(batch: Batch, owner_id: str, versions: int, rng: random.Random,
           granted: list[str] | None = None) -> WorkerSeed:
    """A worker with `versions` versions (and access granted to `granted`), in one stream."""
    worker_id = str(uuid.uuid4())
    name = f"{rng.choice(NAME_WORDS)} {rng.choice(NAME_WORDS)} {worker_id[:6]}"
    slug = f"w-{worker_id}"
    stream = worker_stream(worker_id)
    events: list[DomainEvent] = [WorkerCreated(
        worker_id=worker_id, name=name, slug=slug, type=rng.choice(WORKER_TYPES), owner_id=owner_id,
        description="generated by worker-runs bench",
    )]
    events += [WorkerAccessGranted(worker_id=worker_id, user_id=u, granted_by=owner_id)
               for u in granted or []]
    version_ids = []
    for number in range(1, versions + 1):
        version_id = str(uuid.uuid4())
        version_ids.append(version_id)
        events.append(WorkerVersionCreated(
            worker_id=worker_id, version_id=version_id, number=number,
            configuration={"beam": rng.randint(1, 8), "languages": ["fr", "en"], "threshold": 0.5},
            docker_image_iid="sha256:" + uuid.uuid4().hex, gpu_usage="disabled", model_usage="disabled",
            state="available", tag=f"v{number}", branch="main",
        ))
    # A stream of thousands of versions is cut into transactions of about batch.size events.
    written = 0
    while written < len(events):
        chunk = events[written:written + batch.size]
        aliases = {WORKER_VERSION.format(e.version_id): stream for e in chunk
                   if isinstance(e, WorkerVersionCreated)}
        if written == 0:
            aliases[WORKER_SLUG.format(slug)] = stream
        batch.add(stream, written, chunk, aliases, actor=owner_id)
        written += len(chunk)
    return WorkerSeed(worker_id, owner_id, name, version_ids)


def runs(batch: Batch, user_id: str, expected_version: int,
         pairs: list[tuple[WorkerSeed, str]]) -> list[str]:
    """User worker runs of `user_id` on (worker, version) pairs, appended to its local process."""
    events: list[DomainEvent] = []
    aliases = {}
    run_ids = []
    for seed, version_id in pairs:
        run_id = str(uuid.uuid4())
        run_ids.append(run_id)
        aliases[WORKER_RUN.format(run_id)] = local_process_stream(user_id)
        events.append(UserWorkerRunCreated(
            process_id=local_process_id(user_id), user_id=user_id, run_id=run_id, worker_id=seed.worker_id,
            worker_version_id=version_id, summary=f"Worker {seed.name} @ {version_id[:8]}",
        ))
    batch.add(local_process_stream(user_id), expected_version, events, aliases, actor=user_id)
    return run_ids


#: runs per user in a plan: every CreateUserRun loads its user's local process, whose length is
#: the `history` scenario's subject, not the throughput scenarios'
RUNS_PER_USER = 10


def run_plan(batch: Batch, count: int, rng: random.Random, prefix: str = "runner",
             tokens: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """`count` (user, version) pairs for CreateUserRun, on new users (RUNS_PER_USER each) cycled
    over so consecutive runs go to different local-process streams: each version is new (one run
    per user and version), owned by its user, on a worker of its own. `tokens`: see users()."""
    owners = users(batch, -(-count // RUNS_PER_USER), prefix=prefix, tokens=tokens)
    pools = {}
    for k, owner in enumerate(owners):
        pools[owner] = worker(batch, owner, len(range(k, count, len(owners))), rng).version_ids
    return [(owners[i % len(owners)], pools[owners[i % len(owners)]].pop()) for i in range(count)]


class Population:
    """A realistic log, grown on demand: many users with a few workers and runs each, and three
    heavy users (one worker in 20) with many workers, versions and runs each."""

    def __init__(self, store: EventStore, seed: int = 11) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.users: list[str] = []
        self.heavy_users: list[str] = []
        self.workers: list[WorkerSeed] = []
        self.runs: dict[str, list[str]] = {}
        self._process_versions: dict[str, int] = {}

    def grow(self, events: int) -> int:
        """Append about `events` more events (whole workers with their runs); the count."""
        rng = self.rng
        batch = Batch(self.store, size=1000)
        if not self.heavy_users:
            worker_types(batch)
            self.heavy_users = users(batch, 3, prefix="heavy")
        while batch.written + batch.events < events:
            owner = self._owner(batch)
            heavy = owner in self.heavy_users
            # A few workers of one owner at a time, their runs in one append: the owner signs
            # the events, so the transactions (one actor each) stay large enough to seed fast.
            pairs: list[tuple[WorkerSeed, str]] = []
            for _ in range(rng.randint(1, 6)):
                made = worker(batch, owner, rng.randint(20, 120) if heavy else rng.randint(1, 12), rng)
                self.workers.append(made)
                # Heavy users run every version of theirs, the others about half.
                chosen = (made.version_ids if heavy
                          else rng.sample(made.version_ids, k=max(1, len(made.version_ids) // 2)))
                pairs += [(made, v) for v in chosen]
            version = self._process_versions.get(owner, 0)
            self.runs.setdefault(owner, []).extend(runs(batch, owner, version, pairs))
            self._process_versions[owner] = version + len(pairs)
        batch.flush()
        return batch.written

    def busiest(self) -> str:
        """The user with the most runs (a heavy user once the log is large): the longest
        listings and audit trails."""
        return max(self.runs, key=lambda user: len(self.runs[user]))

    def _owner(self, batch: Batch) -> str:
        if self.rng.random() < 0.05:
            return self.rng.choice(self.heavy_users)
        if not self.users or self.rng.random() < 0.3:
            self.users.extend(users(batch, 1))
        return self.rng.choice(self.users)
