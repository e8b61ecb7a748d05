"""`bulk`: events per second when appending 100 events per transaction, one writer.

Ours: CreateTranscriptions (100 transcriptions on 100 elements, one command) through the bus;
the event store's own append of 100 events per transaction; and the bulk import of
transcriptions over HTTP (POST /api/v1/transcription/bulk/, `serve`'s server on loopback).
Baselines in the same run: a raw multi-row INSERT of 100 rows per transaction, and COPY of 100
rows per transaction, into a table shaped like `events`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from commands import messages as m
from eventstore import NewEvent, StreamAppend
from worker_runs.bench import data
from worker_runs.bench.baselines import RAW_TABLE
from worker_runs.bench.http import ApiUser, LoopbackServer, api_user
from worker_runs.bench.report import Figure
from worker_runs.bench.runner import BenchContext, interleave, run_writers
from worker_runs.bootstrap import Container

PER_TRANSACTION = 100
RAW_COLUMNS = "stream_id, stream_version, event_id, event_type, payload, actor_id"


def run(ctx: BenchContext) -> list[Figure]:
    transactions = ctx.pick(small=5, full=300)
    http_total = ctx.pick(small=300, full=10_000)
    http_batch = ctx.pick(small=100, full=1000)
    container = ctx.container()
    user = api_user(container, f"bulk-{uuid.uuid4().hex[:8]}")
    corpus_id, run_id = _corpus_and_run(container, user)
    needed = ctx.repetitions * (transactions * PER_TRANSACTION + http_total)
    elements = iter(data.elements(container.store, user.user_id, corpus_id, needed, "line"))
    with ctx.connect(autocommit=True) as conn:
        conn.execute(RAW_TABLE)
    raw = ctx.connect()

    def bus() -> float:
        batches = [tuple(m.TranscriptionItem(next(elements), f"line {i}", 0.9)
                         for i in range(PER_TRANSACTION))
                   for _ in range(transactions)]
        head = container.store.head()
        seconds = run_writers(1, transactions, lambda w, i: container.bus.handle(
            m.CreateTranscriptions(batches[i], worker_run_id=run_id), actor=user.actor))
        return (container.store.head() - head) / seconds

    def store_append() -> float:
        stream = f"bench-bulk-{uuid.uuid4()}"
        events = [NewEvent("BenchEvent", _payload()) for _ in range(PER_TRANSACTION)]
        seconds = run_writers(1, transactions, lambda w, i: container.store.append(
            [StreamAppend(stream, i * PER_TRANSACTION, events)], metadata=data.metadata()))
        return transactions * PER_TRANSACTION / seconds

    def multirow() -> float:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * PER_TRANSACTION)
        statement = f"INSERT INTO raw_events ({RAW_COLUMNS}) VALUES {values}"

        def work(w: int, i: int) -> None:
            raw.execute(statement, [v for row in _raw_rows() for v in row])
            raw.commit()
        return transactions * PER_TRANSACTION / run_writers(1, transactions, work)

    def copy() -> float:
        def work(w: int, i: int) -> None:
            with raw.cursor() as cur, cur.copy(f"COPY raw_events ({RAW_COLUMNS}) FROM STDIN") as out:
                for row in _raw_rows():
                    out.write_row(row)
            raw.commit()
        return transactions * PER_TRANSACTION / run_writers(1, transactions, work)

    with LoopbackServer(container) as server:
        session = server.session(user)

        def http_import() -> float:
            items = [{"element_id": next(elements), "text": f"line {i}", "confidence": 0.9}
                     for i in range(http_total)]
            batches = [items[i:i + http_batch] for i in range(0, http_total, http_batch)]
            head = container.store.head()
            seconds = run_writers(1, len(batches), lambda w, i: server.call(
                session, "POST", "/api/v1/transcription/bulk/",
                json={"worker_run_id": run_id, "transcriptions": batches[i]}))
            return (container.store.head() - head) / seconds

        try:
            got = interleave(ctx.repetitions, {"bus": bus, "store": store_append, "http": http_import,
                                               "multirow": multirow, "copy": copy})
        finally:
            raw.close()
    baselines = [got.baseline("multirow", f"raw multi-row INSERT, {PER_TRANSACTION} rows/txn"),
                 got.baseline("copy", f"raw COPY, {PER_TRANSACTION} rows/txn")]
    return [
        Figure("bulk", f"CreateTranscriptions through the bus, {PER_TRANSACTION} per command", "events/s",
               got["bus"], baselines, {"transactions_per_sample": transactions}),
        Figure("bulk", f"event store append, {PER_TRANSACTION} events/txn", "events/s",
               got["store"], baselines, {"transactions_per_sample": transactions}),
        Figure("bulk", f"bulk import over HTTP, {http_total} transcriptions in batches of {http_batch}",
               "events/s", got["http"], baselines, {"transcriptions_per_sample": http_total}),
    ]


def _payload() -> dict[str, Any]:
    return {"element_id": str(uuid.uuid4()), "transcription_id": str(uuid.uuid4()), "text": "a line of text",
            "user_id": str(uuid.uuid4()), "worker_run_id": str(uuid.uuid4()), "confidence": 0.9,
            "orientation": "horizontal-lr"}


def _raw_rows() -> Iterator[tuple[str, int, uuid.UUID, str, str, str]]:
    for _ in range(PER_TRANSACTION):
        payload = _payload()
        yield (f"element-{payload['element_id']}", 1, uuid.uuid4(), "TranscriptionCreated",
               json.dumps(payload), payload["user_id"])


def _corpus_and_run(container: Container, user: ApiUser) -> tuple[str, str]:
    bus = container.bus
    corpus_id = bus.handle(m.CreateCorpus(name="Bulk"), actor=user.actor).data["corpus_id"]
    bus.handle(m.CreateElementType(corpus_id=corpus_id, slug="line", display_name="Line"), actor=user.actor)
    slug = f"importer-{uuid.uuid4().hex[:8]}"
    worker_id = bus.handle(m.CreateWorker(name="Importer", slug=slug, type="import"),
                           actor=user.actor).data["worker_id"]
    version_id = bus.handle(m.CreateWorkerVersion(worker_id=worker_id), actor=user.actor).data["version_id"]
    run_id = bus.handle(m.CreateUserRun(worker_version_id=version_id), actor=user.actor).data["run_id"]
    return corpus_id, run_id
