"""A schema-version bump, staged for tests: `UserWorkerRunCreated` as if it were at version 2, whose
version 1 stored the worker and its version as one nested object.

`bump(monkeypatch)` raises the class's schema version and registers the upcaster (undone after
the test); `bump(monkeypatch, upcaster=False)` raises the version only: the control, a bump
shipped without its upcaster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain import events as ev
from eventstore import StoredEvent

W, V, U, R = (c * 8 + "-0000-4000-8000-000000000000" for c in "wvur")
AT = datetime(2026, 1, 1, tzinfo=UTC)
STREAM = f"local-process-{U}"

#: what version 1 stored
OLD_PAYLOAD: dict[str, Any] = {
    "process_id": "p", "user_id": U, "run_id": R, "summary": "OCR @ 1",
    "worker": {"id": W, "version_id": V},
}


def flatten_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Version 1 -> 2: the nested worker becomes `worker_id` and `worker_version_id`."""
    old = dict(payload)
    worker = old.pop("worker")
    return {**old, "worker_id": worker["id"], "worker_version_id": worker["version_id"]}


def bump(monkeypatch: pytest.MonkeyPatch, *, upcaster: bool = True) -> None:
    monkeypatch.setattr(ev.UserWorkerRunCreated, "schema_version", 2)
    if upcaster:
        monkeypatch.setitem(ev.UPCASTERS, ("UserWorkerRunCreated", 1), flatten_worker)


def old_row(position: int = 7) -> StoredEvent:
    """A row as version 1 wrote it."""
    return StoredEvent(
        position, STREAM, 1, "e" * 8 + "-0000-4000-8000-000000000000", "UserWorkerRunCreated", 1,
        OLD_PAYLOAD, AT, AT, "user", U, "req-1", "req-1", None, None,
    )
