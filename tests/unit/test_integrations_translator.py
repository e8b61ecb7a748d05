"""Pure parts of the integrations: the translator and the subject/visibility index entries."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import events as ev
from eventstore.records import StoredEvent
from integrations.index import entry_for
from integrations.scopes import PUBLIC_SCOPE
from integrations.translator import NOT_EXPOSED, SCHEMA_VERSION, TRANSLATORS, domain_types, translate

NOW = datetime(2026, 1, 1, tzinfo=UTC)
W, V, U, R, C = (
    "w" * 8 + "-0000-4000-8000-000000000000",
    "v" * 8 + "-0000-4000-8000-000000000000",
    "u" * 8 + "-0000-4000-8000-000000000000",
    "r" * 8 + "-0000-4000-8000-000000000000",
    "c" * 8 + "-0000-4000-8000-000000000000",
)


def stored(
    event_type: str, stream: str, payload: dict, *, actor: str = U, run: str | None = None
) -> StoredEvent:
    return StoredEvent(
        7,
        stream,
        1,
        "e" * 8 + "-0000-4000-8000-000000000000",
        event_type,
        1,
        payload,
        NOW,
        NOW,
        "user",
        actor,
        "req-1",
        "req-1",
        None,
        run,
    )


def test_configuration_secrets_never_leave() -> None:
    event = translate(
        stored(
            "WorkerConfigurationCreated",
            f"worker-configuration-{C}",
            {
                "configuration_id": C,
                "worker_id": W,
                "name": "prod",
                "configuration": {"lang": "fr", "token": "s3cr3t"},
                "secret_keys": ["token"],
            },
        )
    )
    assert event is not None
    assert event["type"] == "worker_configuration.created" and event["schema_version"] == SCHEMA_VERSION
    assert event["data"]["configuration"] == {"lang": "fr", "token": None}
    assert "s3cr3t" not in str(event)


def run_created() -> StoredEvent:
    """U's run R of W's version V, as stored."""
    payload = {"process_id": "p", "user_id": U, "run_id": R, "worker_id": W, "worker_version_id": V,
               "summary": "s"}
    return stored("UserWorkerRunCreated", f"local-process-{U}", payload)


def test_envelope_and_unexposed_types() -> None:
    event = translate(
        run_created()
    )
    assert event is not None
    assert set(event) == {
        "id",
        "type",
        "schema_version",
        "position",
        "occurred_at",
        "recorded_at",
        "actor",
        "correlation_id",
        "data",
    }
    assert event["position"] == 7 and event["correlation_id"] == "req-1"
    assert (
        translate(stored("TokenIssued", f"user-{U}", {"user_id": U, "token_id": "t", "token_hash": "h"}))
        is None
    )
    assert domain_types(["worker.created"]) == ["WorkerCreated"]


def test_index_entries_scope_and_subjects() -> None:
    run = entry_for(
        run_created()
    )
    assert run.scope == U  # runs are personal
    assert {R, W, V, U, f"local-process-{U}"} <= run.subjects
    version = entry_for(
        stored("WorkerVersionCreated", f"worker-{W}", {"worker_id": W, "version_id": V, "number": 1})
    )
    assert version.scope == W and {W, V} <= version.subjects
    grant = entry_for(
        stored("WorkerAccessGranted", f"worker-{W}", {"worker_id": W, "user_id": R, "granted_by": U})
    )
    assert grant.readers == ((W, R),)
    assert (
        entry_for(
            stored(
                "WorkerTypeCreated", "worker-type-ocr", {"type_id": "t", "slug": "ocr", "display_name": "OCR"}
            )
        ).scope
        == PUBLIC_SCOPE
    )
    signed = entry_for(
        stored(
            "ElementCreated", f"element-{C}",
            {"element_id": C, "corpus_id": "c", "type": "page", "name": "1", "user_id": U, "worker_run_id": R,
             "parent_id": V},
            run=R,
        )
    )
    assert signed.scope == U and {C, V, R} <= signed.subjects


def test_every_event_class_is_translated_or_listed_as_not_exposed() -> None:
    assert set(ev.EVENT_TYPES.values()) - set(TRANSLATORS) - NOT_EXPOSED == set()
    assert set(TRANSLATORS) & NOT_EXPOSED == set()
