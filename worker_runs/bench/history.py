"""`history`: the cost of a long stream. The same command on a stream with N prior events and
on one with a single event, interleaved; the ratio is the slowdown (1.0: history is free).

- CreateUserRun from a version of a worker with N versions (the command loads the worker's
  stream) vs from a worker with 1 version;
- CreateTranscription signed by the run of a user with N runs on a worker of N versions (the
  signature check loads the user's local process and the run's worker) vs a user with 1 run.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator

from commands import messages as m
from domain.actor import Actor
from worker_runs.bench import data
from worker_runs.bench.report import Figure
from worker_runs.bench.runner import BenchContext, interleave, median_ms
from worker_runs.bootstrap import Container


def run(ctx: BenchContext) -> list[Figure]:
    versions = ctx.pick(small=200, full=10_000)
    per_sample = ctx.pick(small=5, full=20)
    container = ctx.container()
    ops = ctx.repetitions * per_sample
    rng = random.Random(versions)
    batch = data.Batch(container.store)
    long_owner, short_owner, long_signer, short_signer = data.users(batch, 4, prefix="history")
    # CreateUserRun: one long worker; short workers, one per operation (each run needs a version).
    long_worker = data.worker(batch, long_owner, versions, rng)
    short_versions = [data.worker(batch, short_owner, 1, rng).version_ids[0] for _ in range(ops)]
    # Signing: a user with N runs (on a worker of N versions) and a user with 1.
    signer_worker = data.worker(batch, long_signer, versions, rng)
    long_run = data.runs(batch, long_signer, 0, [(signer_worker, v) for v in signer_worker.version_ids])[0]
    small_worker = data.worker(batch, short_signer, 1, rng)
    short_run = data.runs(batch, short_signer, 0, [(small_worker, small_worker.version_ids[0])])[0]
    batch.flush()
    long_elements = _elements(container, long_signer, ops)
    short_elements = _elements(container, short_signer, ops)

    long_versions = iter(long_worker.version_ids)
    short_iter = iter(short_versions)

    def user_run(owner: str, next_version: Iterator[str]) -> Callable[[], float]:
        return lambda: median_ms(per_sample, lambda: container.bus.handle(
            m.CreateUserRun(next(next_version)), actor=Actor(owner)))

    def sign(signer: str, run_id: str, elements: Iterator[str]) -> Callable[[], float]:
        def one() -> None:
            element_id = next(elements)
            container.bus.handle(
                m.CreateTranscription(element_id, m.TranscriptionItem(element_id, "text"),
                                      worker_run_id=run_id),
                actor=Actor(signer))
        return lambda: median_ms(per_sample, one)

    got = interleave(ctx.repetitions, {
        "run_long": user_run(long_owner, long_versions), "run_short": user_run(short_owner, short_iter),
        "sign_long": sign(long_signer, long_run, iter(long_elements)),
        "sign_short": sign(short_signer, short_run, iter(short_elements)),
    })
    return [
        Figure("history", f"CreateUserRun, worker with {versions:,} versions", "ms/cmd (median)",
               got["run_long"], [got.baseline("run_short", "same, worker with 1 version")],
               {"commands_per_sample": per_sample}),
        Figure("history", f"CreateTranscription signed by a run of a user with {versions:,} runs",
               "ms/cmd (median)", got["sign_long"],
               [got.baseline("sign_short", "same, user with 1 run on a 1-version worker")],
               {"commands_per_sample": per_sample}),
    ]


def _elements(container: Container, owner: str, count: int) -> list[str]:
    """A corpus of `owner` (through the bus) and `count` elements in it (appended directly)."""
    corpus_id = container.bus.handle(m.CreateCorpus(name=f"History {uuid.uuid4().hex[:6]}"),
                                     actor=Actor(owner)).data["corpus_id"]
    return data.elements(container.store, owner, corpus_id, count, "page")
