"""The cursor feed (GET /api/v1/events/) and the translator."""

from __future__ import annotations

import threading
import uuid

import falcon.testing

from commands.messages import GrantWorkerAccess
from domain import events as ev
from eventstore.records import Metadata, NewEvent, StreamAppend
from integrations.translator import PUBLIC_TYPES, TRANSLATORS, translate
from tests.api_support import make_user
from tests.integration_support import create_run_chain
from worker_runs.bootstrap import Container, utc_now

FEED = "/api/v1/events/"


def _append_types(live: Container, count: int, batch: int = 50) -> None:
    """`count` public events (worker types), `batch` per append, as fast as the store goes."""
    for start in range(0, count, batch):
        stream = f"worker-type-bulk-{uuid.uuid4().hex}"
        events = [
            NewEvent(
                "WorkerTypeCreated",
                {"type_id": str(uuid.uuid4()), "slug": f"t{start + i}", "display_name": f"T {start + i}"},
            )
            for i in range(min(batch, count - start))
        ]
        live.store.append(
            [StreamAppend(stream, 0, events)],
            metadata=Metadata(
                actor_type="system",
                actor_id="system",
                correlation_id="bulk",
                causation_id="bulk",
                occurred_at=utc_now(),
            ),
        )


def test_paging_over_10k_events_while_writers_append_is_exactly_the_log(
    live: Container,
    client: falcon.testing.TestClient,
) -> None:
    admin = make_user(live, "root", admin=True)
    _append_types(live, 3000)
    writers = [threading.Thread(target=_append_types, args=(live, 3500)) for _ in range(2)]
    for writer in writers:
        writer.start()
    got: list[dict] = []
    after = 0
    while True:
        result = client.simulate_get(FEED, params={"after": after, "limit": 137}, headers=admin.headers)
        assert result.status_code == 200, result.json
        body = result.json
        got.extend(body["events"])
        if body["complete"]:
            assert result.headers["Cache-Control"] == "private, max-age=31536000, immutable"
            assert result.headers["ETag"]
        else:
            assert result.headers["Cache-Control"] == "no-store"
            if not any(w.is_alive() for w in writers) and body["next"] >= live.store.head():
                break
        after = body["next"]
    for writer in writers:
        writer.join()
    expected = [translate(e) for e in live.store.iter_all()]
    expected = [e for e in expected if e is not None]
    assert len(got) >= 10_000
    assert [e["position"] for e in got] == [e["position"] for e in expected]
    assert got == expected


def test_full_pages_are_immutable_and_revalidate_with_the_etag(
    live: Container,
    client: falcon.testing.TestClient,
) -> None:
    alice = make_user(live, "alice")
    create_run_chain(live, alice, "ocr")
    first = client.simulate_get(FEED, params={"limit": 2}, headers=alice.headers)
    assert first.json["complete"] is True and len(first.json["events"]) == 2
    create_run_chain(live, alice, "more")
    again = client.simulate_get(FEED, params={"limit": 2}, headers=alice.headers)
    assert again.json == first.json and again.headers["ETag"] == first.headers["ETag"]
    cached = client.simulate_get(
        FEED, params={"limit": 2}, headers={**alice.headers, "If-None-Match": first.headers["ETag"]}
    )
    assert cached.status_code == 304
    # Per-caller content: never `public`, so a shared cache does not hand alice's page to bob.
    assert first.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    head = client.simulate_get(FEED, params={"limit": 100}, headers=alice.headers)
    assert head.json["complete"] is False and head.headers["Cache-Control"] == "no-store"
    assert "ETag" not in head.headers
    assert head.json["next"] == live.store.head()
    assert "Authorization" in head.headers["Vary"]


def test_a_user_sees_their_objects_and_an_admin_sees_all(
    live: Container,
    client: falcon.testing.TestClient,
) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    admin = make_user(live, "root", admin=True)
    a = create_run_chain(live, alice, "alice-ocr")
    b = create_run_chain(live, bob, "bob-ocr")

    def ids(user) -> list[str]:
        result = client.simulate_get(FEED, params={"limit": 1000}, headers=user.headers)
        return [e["data"].get("id", e["data"].get("worker_id")) for e in result.json["events"]]

    bob_sees = ids(bob)
    assert b.run_id in bob_sees and b.worker_id in bob_sees and bob.user_id in bob_sees
    assert a.run_id not in bob_sees and a.worker_id not in bob_sees and alice.user_id not in bob_sees
    # Worker types are public.
    types = client.simulate_get(FEED, params={"types": "worker_type.created"}, headers=bob.headers).json
    assert [e["data"]["slug"] for e in types["events"]] == ["recognizer"]
    # Granted access: Bob sees Alice's worker from the grant on (and her versions after it),
    # but not her personal run.
    live.bus.handle(GrantWorkerAccess(worker_id=a.worker_id, user_id=bob.user_id), actor=alice.actor)
    bob_sees = ids(bob)
    assert a.worker_id in bob_sees and a.run_id not in bob_sees
    assert set(ids(admin)) >= {a.run_id, b.run_id, alice.user_id, bob.user_id}


def test_type_filter_and_validation(live: Container, client: falcon.testing.TestClient) -> None:
    alice = make_user(live, "alice")
    chain = create_run_chain(live, alice, "ocr")
    runs = client.simulate_get(
        FEED, params={"types": "worker_run.created,worker.created"}, headers=alice.headers
    ).json["events"]
    assert [e["type"] for e in runs] == ["worker.created", "worker_run.created"]
    run = runs[-1]
    assert run["data"]["id"] == chain.run_id and run["data"]["worker_version_id"] == chain.version_id
    assert run["data"]["process"]["mode"] == "local"
    assert run["actor"] == {"type": "user", "id": alice.user_id}
    assert run["schema_version"] == 1 and uuid.UUID(run["id"])
    bad = client.simulate_get(FEED, params={"types": "nope"}, headers=alice.headers)
    assert bad.status_code == 400
    assert client.simulate_get(FEED, params={"limit": 0}, headers=alice.headers).status_code == 400
    assert client.simulate_get(FEED).status_code == 401


def test_every_public_type_has_one_translator() -> None:
    assert sorted(t.public_type for t in TRANSLATORS.values()) == list(PUBLIC_TYPES)
    assert ev.TokenIssued not in TRANSLATORS  # token hashes never leave the server
