"""Issue 5 below the API: the document commands through the bus, the signing run recorded in
the events' indexed column, `read_streams` / `UnitOfWork.load_many`, and the pure projectors."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from commands import COMMAND_HANDLERS
from commands import messages as m
from commands.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.documents import Element, element_stream
from domain.errors import NotFound, VersionNotUsable
from eventstore import Metadata, NewEvent, StoredEvent, StreamAppend
from eventstore.schema import events
from projections import documents, entities, images, paths, retractions
from projections.envelope import recorded
from projections.ops import Upsert
from projections.registry import PROJECTIONS
from tests.api_support import make_user
from worker_runs.bootstrap import Container


def _meta() -> Metadata:
    return Metadata("user", "u", "c", "c", datetime.now(UTC))


def test_read_streams_reads_many_streams_in_one_call(container: Container) -> None:
    store = container.store
    store.append(
        [StreamAppend(f"s-{i}", 0, [NewEvent("A", {"i": i}), NewEvent("B", {"i": i})]) for i in range(3)],
        metadata=_meta(),
    )
    read = store.read_streams(["s-2", "s-0", "missing"])
    assert list(read) == ["s-2", "s-0", "missing"]
    assert [(e.event_type, e.payload) for e in read["s-2"]] == [("A", {"i": 2}), ("B", {"i": 2})]
    assert read["missing"] == []
    # More streams than one IN list holds (SQLite's bound-parameter limit).
    many = [f"m-{i}" for i in range(1200)]
    store.append([StreamAppend(s, 0, [NewEvent("A", {})]) for s in many], metadata=_meta())
    assert all(len(v) == 1 for v in store.read_streams(many).values())


def _signed_setup(container: Container) -> tuple[Actor, str, str, str]:
    alice = make_user(container, "alice").actor
    bus = container.bus
    corpus_id = bus.handle(m.CreateCorpus(name="C"), actor=alice).data["corpus_id"]
    bus.handle(m.CreateElementType(corpus_id=corpus_id, slug="page", display_name="Page"), actor=alice)
    element_id = bus.handle(m.CreateElement(corpus_id=corpus_id, type="page", name="p"), actor=alice).data[
        "element_id"
    ]
    worker_id = bus.handle(m.CreateWorker(name="W", slug="w", type="t"), actor=alice).data["worker_id"]
    version_id = bus.handle(m.CreateWorkerVersion(worker_id=worker_id), actor=alice).data["version_id"]
    run_id = bus.handle(m.CreateUserRun(worker_version_id=version_id), actor=alice).data["run_id"]
    return alice, element_id, run_id, version_id


def test_load_many_loads_each_stream_once(container: Container) -> None:
    alice, element_id, _, _ = _signed_setup(container)
    uow = UnitOfWork(container.store, container.bus.clock, container.bus.ids)
    loaded = uow.load_many(
        Element, [element_stream(element_id), element_stream("nope"), element_stream(element_id)]
    )
    assert loaded[element_stream(element_id)].exists and not loaded[element_stream("nope")].exists
    assert uow.load(Element, element_stream(element_id)) is loaded[element_stream(element_id)]
    assert uow.observed_position > 0


def test_signed_commands_record_the_run_in_payload_and_column(container: Container) -> None:
    alice, element_id, run_id, _ = _signed_setup(container)
    item = m.TranscriptionItem(element_id=element_id, text="hello", confidence=0.5)
    container.bus.handle(
        m.CreateTranscription(element_id=element_id, item=item, worker_run_id=run_id),
        actor=alice,
    )
    container.bus.handle(m.CreateTranscription(element_id=element_id, item=item), actor=alice)
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(events.c.payload, events.c.worker_run_id)
            .where(events.c.event_type == "TranscriptionCreated")
            .order_by(events.c.global_position)
        ).all()
    assert [(r.payload["worker_run_id"], r.worker_run_id) for r in rows] == [(run_id, run_id), (None, None)]


def test_every_command_with_a_signing_run_carries_it_as_signed_by_run() -> None:
    # The bus records the run of SignedByRun commands only: a `worker_run_id` field declared
    # on a command of its own would be checked by its handler but missing from the events'
    # indexed column (audit and provenance by run).
    with_run = {
        cls for cls in COMMAND_HANDLERS if "worker_run_id" in {f.name for f in dataclasses.fields(cls)}
    }
    assert with_run == {cls for cls in COMMAND_HANDLERS if issubclass(cls, m.SignedByRun)}
    assert len(with_run) == 10


def test_signing_rules_through_the_bus(container: Container) -> None:
    alice, element_id, run_id, version_id = _signed_setup(container)
    bob = make_user(container, "bob").actor
    item = m.TranscriptionItem(element_id=element_id, text="x")
    # Another user's run is answered like an unknown one (issue 12: no existence oracle).
    with pytest.raises(NotFound) as others:
        container.bus.handle(m.CreateTranscriptions(items=(item,), worker_run_id=run_id), actor=bob)
    assert others.value.field == "worker_run_id"
    with pytest.raises(NotFound) as unknown:
        container.bus.handle(
            m.CreateTranscriptions(items=(item,), worker_run_id=str(uuid.uuid4())), actor=alice
        )
    assert unknown.value.field == "worker_run_id"
    container.bus.handle(
        m.UpdateWorkerVersion(version_id=version_id, changes={"state": "error"}), actor=alice
    )
    with pytest.raises(VersionNotUsable):
        container.bus.handle(m.CreateTranscriptions(items=(item,), worker_run_id=run_id), actor=alice)


def _stored(event_type: str, payload: dict, position: int = 7, run: str | None = None) -> StoredEvent:
    now = datetime.now(UTC)
    return StoredEvent(
        position,
        "s",
        1,
        str(uuid.uuid4()),
        event_type,
        1,
        payload,
        now,
        now,
        "user",
        "u",
        "c",
        "c",
        None,
        run,
    )


def test_projectors_write_one_row_per_event_with_the_creator() -> None:
    assert PROJECTIONS["documents"].tables == (
        documents.TABLES + images.TABLES + paths.TABLES + entities.TABLES + retractions.TABLES
    )
    ops = documents.on_transcription_created(
        recorded(_stored(
            "TranscriptionCreated",
            {
                "element_id": "e",
                "transcription_id": "t",
                "text": "x",
                "user_id": "u",
                "worker_run_id": "r",
                "confidence": None,
                "orientation": "horizontal-lr",
            },
        ))
    )
    assert ops == [
        Upsert(
            "rm_transcriptions",
            {"transcription_id": "t"},
            {
                "element_id": "e",
                "text": "x",
                "confidence": None,
                "orientation": "horizontal-lr",
                "user_id": "u",
                "worker_run_id": "r",
                "created_at": ops[0].values["created_at"],
                "created_position": 7,
            },
        )
    ]
    for event_type in documents.PROJECTORS:
        assert event_type in PROJECTIONS["documents"].projectors


def test_documents_projection_rebuilds_to_the_same_rows(container: Container) -> None:
    from projections.document_queries import list_signed
    from projections.queries import Keyset
    from tests.projection_workload import snapshot

    alice, element_id, run_id, _ = _signed_setup(container)
    items = tuple(m.TranscriptionItem(element_id=element_id, text=f"t{i}") for i in range(30))
    container.bus.handle(
        m.CreateTranscriptions(items=items, worker_run_id=run_id), actor=alice
    )
    for name in PROJECTIONS:
        container.runner.catch_up(name)
    before = snapshot(container.engine, "documents")
    assert len(before["rm_transcriptions"]) == 30 and len(before["rm_elements"]) == 1
    result = container.runner.rebuild("documents", batch_size=7)
    assert (result.old_generation, result.generation) == (1, 2)
    assert snapshot(container.engine, "documents") == before
    with container.engine.connect() as conn:
        assert list_signed(conn, worker_run_id=run_id, keyset=Keyset(limit=100, with_count=True)).count == 30
