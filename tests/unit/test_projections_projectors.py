"""The projectors are pure functions `Envelope -> list[Op]`: tested without a database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from domain import events as ev
from eventstore import StoredEvent
from projections import catalog, user_runs
from projections.envelope import Envelope, recorded
from projections.ops import LinkPaths, Update, Upsert
from projections.registry import NOT_PROJECTED, PROJECTIONS
from projections.tables import metadata

AT = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def stored(event: ev.DomainEvent, position: int = 7, stream: str = "s-1") -> StoredEvent:
    return StoredEvent(
        global_position=position, stream_id=stream, stream_version=1, event_id=f"e-{position}",
        event_type=event.event_type, schema_version=event.schema_version, payload=event.to_payload(),
        occurred_at=AT, recorded_at=AT, actor_type="user", actor_id="u-1", correlation_id="c",
        causation_id="c", command_id=None,
    )


def enveloped(event: ev.DomainEvent, position: int = 7, stream: str = "s-1") -> Envelope[ev.DomainEvent]:
    """The event as a projector receives it: stored, then decoded by the one path readers use."""
    return recorded(stored(event, position, stream))


def test_user_registered() -> None:
    ops = catalog.on_user_registered(enveloped(ev.UserRegistered("u-1", "alice", "a@x.org", True)))
    assert ops == [Upsert("rm_users", {"user_id": "u-1"},
                          {"username": "alice", "email": "a@x.org", "is_admin": True, "created_at": AT})]


def test_worker_created_and_updated() -> None:
    created = catalog.on_worker_created(enveloped(ev.WorkerCreated(
        worker_id="w-1", name="OCR", slug="ocr", type="my-ocr", owner_id="u-1", description="d",
        repository_url="https://git/x",
    ), position=12))
    assert created == [Upsert("rm_workers", {"worker_id": "w-1"}, {
        "name": "OCR", "slug": "ocr", "type": "my-ocr", "description": "d", "repository_url": "https://git/x",
        "owner_id": "u-1", "archived": False, "created_at": AT, "created_position": 12,
    })]
    updated = catalog.on_worker_updated(enveloped(ev.WorkerUpdated("w-1", {"archived": True, "name": "New"})))
    assert updated == [Update("rm_workers", {"worker_id": "w-1"}, {"archived": True, "name": "New"})]


def test_worker_version_created_keeps_every_field_but_the_key() -> None:
    event = ev.WorkerVersionCreated(worker_id="w-1", version_id="v-1", number=3, configuration={"a": 1},
                                    tag="t", gpu_usage="required")
    [op] = catalog.on_worker_version_created(enveloped(event, position=40))
    assert isinstance(op, Upsert) and op.key == {"version_id": "v-1"}
    assert op.values["number"] == 3 and op.values["configuration"] == {"a": 1}
    assert op.values["gpu_usage"] == "required" and op.values["archived"] is False
    assert op.values["created_position"] == 40 and "version_id" not in op.values


def test_access_granted_is_a_key_only_upsert() -> None:
    ops = catalog.on_worker_access_granted(enveloped(ev.WorkerAccessGranted("w-1", "u-2", "u-1")))
    assert ops == [Upsert("rm_worker_access", {"worker_id": "w-1", "user_id": "u-2"}, {})]


def test_user_worker_run_created() -> None:
    event = ev.UserWorkerRunCreated(process_id="p", user_id="u", run_id="r", worker_id="w",
                                    worker_version_id="v", summary="Worker OCR @ version 1",
                                    configuration_id=None, model_version_id="mv")
    [op] = user_runs.on_user_worker_run_created(enveloped(event, position=99))
    assert op == Upsert("rm_user_runs", {"run_id": "r"}, {
        "user_id": "u", "process_id": "p", "worker_id": "w", "worker_version_id": "v",
        "configuration_id": None, "model_version_id": "mv", "summary": "Worker OCR @ version 1",
        "created_at": AT, "created_position": 99,
    })


def test_projections_ignore_events_they_do_not_project() -> None:
    token = ev.TokenIssued("u", "t", "hash")
    assert PROJECTIONS["catalog"].handle(enveloped(token)) == []
    assert PROJECTIONS["user_runs"].handle(enveloped(token)) == []
    assert PROJECTIONS["catalog"].project(stored(token)) == []


def test_a_stored_type_this_version_does_not_know_is_skipped_not_failed() -> None:
    """Written by a newer version: projections skip it (it has no projector) rather than park it."""
    newer = dataclasses.replace(stored(ev.TokenIssued("u", "t", "hash")), event_type="FromTheFuture",
                                payload={"anything": 1})
    assert all(projection.project(newer) == [] for projection in PROJECTIONS.values())


def test_every_event_class_is_projected_or_listed_as_not_projected() -> None:
    handled = {cls for projection in PROJECTIONS.values() for cls in projection.projectors}
    assert set(ev.EVENT_TYPES.values()) - handled - NOT_PROJECTED == set()
    assert handled & NOT_PROJECTED == set()  # the list says what is true


def test_event_types_name_what_each_projection_reads_from_the_log() -> None:
    for projection in PROJECTIONS.values():
        assert projection.event_types == {cls.__name__ for cls in projection.projectors}
        assert projection.event_types <= set(ev.EVENT_TYPES)


def _sample(event_type: str) -> dict[str, Any]:
    cls = ev.EVENT_TYPES[event_type]
    samples: dict[str, Any] = {
        "WorkerUpdated": {"worker_id": "w", "changes": {"name": "n"}},
        "WorkerVersionUpdated": {"worker_id": "w", "version_id": "v", "changes": {"state": "error"}},
    }
    if event_type in samples:
        return samples[event_type]
    fields = {f.name: "x" for f in dataclasses.fields(cls)}
    for numeric in ("number",):
        if numeric in fields:
            fields[numeric] = 1
    return fields


@pytest.mark.parametrize("name", sorted(PROJECTIONS))
def test_every_projector_writes_only_real_tables_and_columns(name: str) -> None:
    """A typo in a projector would fail at apply time in production: catch it here."""
    projection = PROJECTIONS[name]
    assert projection.projectors, name
    for cls, projector in projection.projectors.items():
        event_type = cls.__name__
        event = cls(**_sample(event_type))
        for op in projector(enveloped(event)):
            assert op.table in projection.tables, (event_type, op.table)
            if isinstance(op, LinkPaths):  # a set-based statement on its closure table
                assert {"ancestor_id", "descendant_id"} <= set(metadata.tables[op.table].c.keys())
                continue
            table = metadata.tables[op.table]
            assert set(op.key) | set(op.values) <= set(table.c.keys()), (event_type, op)
            assert {c.name for c in table.primary_key} == {"generation", *op.key}, (event_type, op)


def test_projectors_are_deterministic() -> None:
    event = enveloped(ev.WorkerCreated(worker_id="w", name="n", slug="s", type="t", owner_id="o"))
    assert catalog.on_worker_created(event) == catalog.on_worker_created(event)
