"""`domain.events.decode` builds an event without its __init__ when the payload has exactly its
fields (projections/envelope.py decodes every event a reader reads): the result must be the
event __init__ would build, and every other payload must still go through __init__."""

from __future__ import annotations

import dataclasses

import pytest

from domain import events as ev


def test_a_full_payload_decodes_to_the_same_frozen_event() -> None:
    event = ev.WorkerCreated(worker_id="w", name="n", slug="s", type="t", owner_id="o", description="d")
    payload = event.to_payload()
    decoded = ev.decode("WorkerCreated", 1, payload)
    assert decoded == event and hash(decoded) == hash(event) and type(decoded) is ev.WorkerCreated
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.name = "other"  # type: ignore[misc]
    payload["name"] = "changed after decoding"
    assert decoded == event  # the event keeps its own field table


def test_a_payload_missing_defaulted_fields_gets_the_defaults() -> None:
    decoded = ev.decode("WorkerCreated", 1, {"worker_id": "w", "name": "n", "slug": "s", "type": "t",
                                             "owner_id": "o"})
    assert decoded == ev.WorkerCreated("w", "n", "s", "t", "o")
    assert decoded.description == "" and decoded.repository_url is None  # type: ignore[attr-defined]


def test_unexpected_or_missing_fields_are_refused_by_name() -> None:
    full = ev.WorkerAccessGranted("w", "u", "g").to_payload()
    with pytest.raises(TypeError, match="surprise"):
        ev.decode("WorkerAccessGranted", 1, {**full, "surprise": 1})
    with pytest.raises(TypeError, match="granted_by"):
        ev.decode("WorkerAccessGranted", 1, {"worker_id": "w", "user_id": "u"})


@pytest.mark.parametrize("cls", list(ev.EVENT_TYPES.values()), ids=lambda c: c.__name__)
def test_every_event_class_can_take_the_direct_path(cls: type[ev.DomainEvent]) -> None:
    """No event class may need its __init__ for more than storing fields."""
    assert not hasattr(cls, "__post_init__")
    assert all(f.init for f in dataclasses.fields(cls))
