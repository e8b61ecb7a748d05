"""A schema-version bump reaches every reader of the log, not only the aggregates: projectors,
the integration translator and the visibility index all read the event decoded and upcast
(projections/envelope.py). The control: the same bump without its upcaster fails loudly on
each path instead of projecting a wrong row."""

from __future__ import annotations

import logging

import pytest

from domain.events import UnknownEventVersion
from integrations.index import entry_for
from integrations.translator import translate
from projections.envelope import recorded
from projections.ops import Upsert
from projections.registry import PROJECTIONS
from tests.upcasting_support import OLD_PAYLOAD, STREAM, R, U, V, W, bump, old_row


def test_the_envelope_carries_the_upcast_event_and_its_recording(monkeypatch: pytest.MonkeyPatch) -> None:
    bump(monkeypatch)
    envelope = recorded(old_row(position=9))
    assert (envelope.event.worker_id, envelope.event.worker_version_id) == (W, V)
    assert (envelope.position, envelope.stream_id, envelope.actor_id) == (9, f"local-process-{U}", U)
    assert "worker" in OLD_PAYLOAD  # the stored row is read, never rewritten


def test_a_projection_reads_an_old_schema_version_through_its_upcaster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bump(monkeypatch)
    [op] = PROJECTIONS["user_runs"].project(old_row())
    assert isinstance(op, Upsert) and op.key == {"run_id": R}
    assert (op.values["worker_id"], op.values["worker_version_id"]) == (W, V)


def test_the_translator_and_the_index_read_it_too(monkeypatch: pytest.MonkeyPatch) -> None:
    bump(monkeypatch)
    public = translate(old_row())
    assert public is not None
    assert (public["data"]["worker_id"], public["data"]["worker_version_id"]) == (W, V)
    entry = entry_for(old_row())
    assert entry.scope == U and {W, V, R} <= entry.subjects


def test_control_without_the_upcaster_every_reader_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same row and bump, the upcaster forgotten: nothing projects a row without a worker,
    and the failure names the missing upcaster (not a bare KeyError of the registry)."""
    bump(monkeypatch, upcaster=False)
    with pytest.raises(UnknownEventVersion, match=r"UPCASTERS\[\('UserWorkerRunCreated', 1\)\]") as raised:
        PROJECTIONS["user_runs"].project(old_row())
    assert not isinstance(raised.value, KeyError)
    assert (raised.value.event_type, raised.value.stored, raised.value.missing, raised.value.current) == (
        "UserWorkerRunCreated", 1, 1, 2)
    with pytest.raises(UnknownEventVersion, match="stored at schema version 1 cannot be upcast to version 2"):
        translate(old_row())


def test_control_without_the_upcaster_the_index_scopes_the_event_to_its_author(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """The index reads every event: one with no upcaster path is caught like an unknown type
    (visible to its author only, from the stored payload's ids), and the log names why."""
    bump(monkeypatch, upcaster=False)
    with caplog.at_level(logging.WARNING, logger="integrations.index"):
        entry = entry_for(old_row(position=11))
    assert entry.scope == U and entry.readers == ()
    assert {STREAM, U, R, W, V} <= entry.subjects  # the stored payload's ids, nested ones too
    [message] = [r.getMessage() for r in caplog.records]
    assert "event 11 (UserWorkerRunCreated) does not decode" in message
    assert "no upcaster registered for version 1" in message
