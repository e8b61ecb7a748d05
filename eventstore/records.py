"""Value objects crossing the event-store boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: expected version of a stream that must not exist yet
NO_STREAM = 0


class ConcurrencyConflict(Exception):
    """The stream moved (or a unique claim was taken) since it was loaded: reload and retry."""


@dataclass(frozen=True)
class NewEvent:
    event_type: str
    payload: dict[str, Any]
    schema_version: int = 1


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream, expected at `expected_version`. At least one event: an append is
    how a stream changes (a version check alone has no use, and the stores' single-statement
    appends check versions by inserting)."""

    stream_id: str
    expected_version: int
    events: list[NewEvent]

    def __post_init__(self) -> None:
        if not self.events:
            raise ValueError(f"an append to {self.stream_id} must carry at least one event")


@dataclass(frozen=True)
class Metadata:
    """Who, why and when: stored as indexed columns so audit queries are plain SQL."""

    actor_type: str
    actor_id: str
    correlation_id: str
    causation_id: str
    occurred_at: datetime
    command_id: str | None = None
    #: the worker run that signed this change, if any (provenance and audit by run)
    worker_run_id: str | None = None


@dataclass(frozen=True)
class CommandRecord:
    """A command's idempotency record: written in the same transaction as its events."""

    command_id: str
    command_type: str
    request_hash: str
    response: dict[str, Any] = field(default_factory=dict)
    position: int | None = None


@dataclass(frozen=True)
class AppendResult:
    first_position: int | None
    last_position: int | None


@dataclass(frozen=True)
class StoredEvent:
    global_position: int
    stream_id: str
    stream_version: int
    event_id: str
    event_type: str
    schema_version: int
    payload: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    actor_type: str
    actor_id: str
    correlation_id: str
    causation_id: str
    command_id: str | None
    worker_run_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (CLI `events tail`, audit)."""
        return {
            "position": self.global_position,
            "event_id": self.event_id,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "type": self.event_type,
            "schema_version": self.schema_version,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "actor": {"type": self.actor_type, "id": self.actor_id},
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "command_id": self.command_id,
            "worker_run_id": self.worker_run_id,
            "data": self.payload,
        }
