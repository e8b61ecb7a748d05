"""Audit-trail queries: each filter, visibility, keyset paging, CSV = JSON, run provenance, CLI."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import falcon.testing
import pytest
from click.testing import CliRunner

from commands.messages import CreateUserRun, CreateWorker, CreateWorkerVersion, GrantWorkerAccess
from eventstore.records import Metadata, NewEvent, StreamAppend
from integrations.audit import CSV_COLUMNS
from tests.api_support import ApiUser, make_user
from tests.integration_support import create_run_chain
from tests.waiting import wait_until
from worker_runs.bootstrap import Container, utc_now

AUDIT = "/api/v1/audit/"


def _get(client: falcon.testing.TestClient, user: ApiUser, **params: object) -> list[dict]:
    """Every page of an audit query, following `next`."""
    results: list[dict] = []
    after = 0
    while True:
        result = client.simulate_get(
            AUDIT, params={**params, "after": after, "limit": 3}, headers=user.headers
        )
        assert result.status_code == 200, result.json
        results.extend(result.json["results"])
        if result.json["next"] is None:
            return results
        after = result.json["next"]


def _signed_by_run(live: Container, user: ApiUser, run_id: str) -> tuple[str, int]:
    """An object published by `user` with their run (an element event signed by the run)."""
    element_id = str(uuid.uuid4())
    result = live.store.append(
        [
            StreamAppend(
                f"element-{element_id}",
                0,
                [
                    NewEvent(
                        "ElementCreated",
                        {"element_id": element_id, "corpus_id": str(uuid.uuid4()), "type": "page",
                         "name": "page 1", "user_id": user.user_id, "worker_run_id": run_id},
                    )
                ],
            )
        ],
        metadata=Metadata(
            actor_type="user",
            actor_id=user.user_id,
            correlation_id="req-el",
            causation_id="req-el",
            occurred_at=utc_now(),
            worker_run_id=run_id,
        ),
    )
    assert result.last_position is not None
    return element_id, result.last_position


def test_each_filter(live: Container, client: falcon.testing.TestClient) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    admin = make_user(live, "root", admin=True)
    a = create_run_chain(live, alice, "alice-ocr")
    # A boundary just after Alice's events; Bob's are recorded once the clock has passed it.
    boundary = next(live.store.iter_all(after=a.position - 1)).recorded_at + timedelta(microseconds=1)
    assert wait_until(lambda: datetime.now(UTC) > boundary, timeout=1, interval=0.001)
    b = create_run_chain(live, bob, "bob-ocr")
    element_id, element_position = _signed_by_run(live, alice, a.run_id)
    everything = [e.as_dict() for e in live.store.iter_all()]

    by_actor = _get(client, admin, actor=alice.user_id)
    assert by_actor == [e for e in everything if e["actor"]["id"] == alice.user_id]
    assert {e["type"] for e in by_actor} >= {"WorkerCreated", "UserWorkerRunCreated", "ElementCreated"}

    by_run = _get(client, admin, worker_run=a.run_id)
    assert [e["position"] for e in by_run] == [a.position, element_position]

    by_worker = _get(client, admin, stream=a.worker_id)
    assert [e["type"] for e in by_worker] == ["WorkerCreated", "WorkerVersionCreated", "UserWorkerRunCreated"]
    by_version = _get(client, admin, stream=a.version_id)
    assert [e["type"] for e in by_version] == ["WorkerVersionCreated", "UserWorkerRunCreated"]
    by_user = _get(client, admin, stream=bob.user_id)
    assert by_user[0]["type"] == "UserRegistered" and b.position in {e["position"] for e in by_user}
    assert [e["position"] for e in _get(client, admin, stream=element_id)] == [element_position]
    assert _get(client, admin, stream=f"worker-{a.worker_id}") == by_worker[:2]

    by_type = _get(client, admin, type="UserWorkerRunCreated")
    assert [e["position"] for e in by_type] == [a.position, b.position]

    since = _get(client, admin, since=boundary.isoformat())
    assert since == [e for e in everything if e["recorded_at"] >= boundary.isoformat()]
    assert since[0]["data"].get("slug") == "bob-ocr"
    until = _get(client, admin, until=boundary.isoformat())
    assert until + since == everything

    combined = _get(client, admin, actor=bob.user_id, type="UserWorkerRunCreated", since=boundary.isoformat())
    assert [e["position"] for e in combined] == [b.position]


def test_a_user_cannot_read_another_users_audit_entries(
    live: Container, client: falcon.testing.TestClient
) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    a = create_run_chain(live, alice, "alice-ocr")
    b = create_run_chain(live, bob, "bob-ocr")
    assert _get(client, bob, actor=alice.user_id) == []
    assert _get(client, bob, worker_run=a.run_id) == []
    assert _get(client, bob, stream=a.worker_id) == []
    assert _get(client, bob, stream=alice.user_id) == []
    mine = _get(client, bob)
    assert mine and not any(e["actor"]["id"] == alice.user_id for e in mine)
    assert not any(alice.user_id in e["stream_id"] or a.worker_id in e["stream_id"] for e in mine)
    assert b.position in {e["position"] for e in mine}
    assert client.simulate_get(f"{AUDIT}runs/{a.run_id}/", headers=bob.headers).status_code == 404
    # Sharing a worker shows its history, never the owner's personal run.
    live.bus.handle(GrantWorkerAccess(worker_id=a.worker_id, user_id=bob.user_id), actor=alice.actor)
    shared = _get(client, bob, stream=a.worker_id)
    assert [e["type"] for e in shared] == ["WorkerAccessGranted"]
    assert client.simulate_get(AUDIT, headers={}).status_code == 401


def test_csv_parses_and_matches_the_json(live: Container, client: falcon.testing.TestClient) -> None:
    alice = make_user(live, "alice")
    admin = make_user(live, "root", admin=True)
    for i in range(5):
        create_run_chain(live, alice, f"ocr-{i}")
    for user, params in ((admin, {}), (alice, {"type": "WorkerCreated"}), (admin, {"actor": alice.user_id})):
        as_json = _get(client, user, **params)
        result = client.simulate_get(AUDIT, params={**params, "format": "csv"}, headers=user.headers)
        assert result.status_code == 200 and result.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(result.text)))
        assert tuple(rows[0]) == CSV_COLUMNS
        assert len(rows) == len(as_json) > 0
        for row, entry in zip(rows, as_json, strict=True):
            assert int(row["position"]) == entry["position"]
            assert row["event_id"] == entry["event_id"] and row["type"] == entry["type"]
            assert row["actor_id"] == entry["actor"]["id"] and row["recorded_at"] == entry["recorded_at"]
            assert row["correlation_id"] == entry["correlation_id"]
            assert (row["worker_run_id"] or None) == entry["worker_run_id"]
            assert json.loads(row["data"]) == entry["data"]


def test_run_provenance(live: Container, client: falcon.testing.TestClient) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    admin = make_user(live, "root", admin=True)
    worker_id = live.bus.handle(
        CreateWorker(name="ocr", slug="ocr", type="recognizer"), actor=bob.actor, correlation_id="req-worker"
    ).data["worker_id"]
    live.bus.handle(GrantWorkerAccess(worker_id=worker_id, user_id=alice.user_id), actor=bob.actor)
    version_id = live.bus.handle(CreateWorkerVersion(worker_id=worker_id), actor=bob.actor).data["version_id"]
    run = live.bus.handle(
        CreateUserRun(worker_version_id=version_id), actor=alice.actor, correlation_id="req-run-42"
    )
    create_run_chain(live, bob, "later")  # not part of the run's provenance
    live.bus.handle(CreateWorkerVersion(worker_id=worker_id), actor=bob.actor)  # after the run: excluded
    run_id = run.data["run_id"]
    result = client.simulate_get(f"{AUDIT}runs/{run_id}/", headers=alice.headers)
    assert result.status_code == 200, result.json
    body = result.json
    assert body["created_by"] == {"type": "user", "id": alice.user_id}
    assert body["correlation_id"] == "req-run-42" and body["position"] == run.position
    assert body["worker_version_id"] == version_id
    # The history follows the audit trail's rule: alice reads the worker from her grant on.
    assert [e["type"] for e in body["history"]] == ["WorkerAccessGranted", "WorkerVersionCreated"]
    assert all(e["position"] < run.position for e in body["history"])
    as_admin = client.simulate_get(f"{AUDIT}runs/{run_id}/", headers=admin.headers).json
    assert [e["type"] for e in as_admin["history"]] == [
        "WorkerCreated",
        "WorkerAccessGranted",
        "WorkerVersionCreated",
    ]
    assert as_admin["history"][0]["correlation_id"] == "req-worker"
    assert {k: v for k, v in as_admin.items() if k != "history"} == {
        k: v for k, v in body.items() if k != "history"
    }
    assert client.simulate_get(f"{AUDIT}runs/{uuid.uuid4()}/", headers=alice.headers).status_code == 404


def test_validation(live: Container, client: falcon.testing.TestClient) -> None:
    alice = make_user(live, "alice")
    for params in ({"since": "yesterday"}, {"worker_run": "nope"}, {"format": "xml"}, {"limit": 0}):
        assert client.simulate_get(AUDIT, params=params, headers=alice.headers).status_code == 400


def test_run_provenance_hides_other_users_runs_on_a_shared_worker(
    live: Container, client: falcon.testing.TestClient
) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    worker_id = live.bus.handle(
        CreateWorker(name="ocr", slug="ocr", type="recognizer"), actor=alice.actor
    ).data["worker_id"]
    version = live.bus.handle(CreateWorkerVersion(worker_id=worker_id), actor=alice.actor)
    version_id = version.data["version_id"]
    live.bus.handle(GrantWorkerAccess(worker_id=worker_id, user_id=bob.user_id), actor=alice.actor)
    bobs = live.bus.handle(
        CreateUserRun(worker_version_id=version_id, summary="bob private"), actor=bob.actor
    ).data["run_id"]
    mine = live.bus.handle(CreateUserRun(worker_version_id=version_id), actor=alice.actor).data["run_id"]

    result = client.simulate_get(f"{AUDIT}runs/{mine}/", headers=alice.headers)
    assert result.status_code == 200, result.json
    assert bobs not in result.text and "bob private" not in result.text
    assert [e["type"] for e in result.json["history"]] == [
        "WorkerCreated",
        "WorkerVersionCreated",
        "WorkerAccessGranted",
    ]
    # The owner's own trail of the shared worker agrees with her run's history.
    assert _get(client, alice, stream=worker_id)[:3] == result.json["history"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (AUDIT, {"after": "99999999999999999999"}),
        (AUDIT, {"after": "99999999999999999999", "format": "csv"}),
        (AUDIT, {"after": str(2**63)}),
        ("/api/v1/events/", {"after": "99999999999999999999"}),
        ("/api/v1/events/stream", {"after": "99999999999999999999"}),
        ("/api/v1/workers/", {"min_position": "99999999999999999999"}),
    ],
)
def test_integers_above_int64_are_a_validation_error(
    live: Container, client: falcon.testing.TestClient, path: str, params: dict[str, str]
) -> None:
    alice = make_user(live, "alice")
    result = client.simulate_get(path, params=params, headers=alice.headers)
    assert result.status_code == 400, result.text
    assert result.json["type"] == "validation_error"


@pytest.mark.parametrize(
    "headers",
    [{"Last-Event-ID": "99999999999999999999"}, {"X-Min-Event-Position": "99999999999999999999"}],
)
def test_position_headers_above_int64_are_a_validation_error(
    live: Container, client: falcon.testing.TestClient, headers: dict[str, str]
) -> None:
    alice = make_user(live, "alice")
    path = "/api/v1/events/stream" if "Last-Event-ID" in headers else "/api/v1/workers/"
    result = client.simulate_get(path, headers={**alice.headers, **headers})
    assert result.status_code == 400, result.text
    assert result.json["type"] == "validation_error"


def test_webhook_position_fields_above_int64_are_a_validation_error(
    live: Container, client: falcon.testing.TestClient
) -> None:
    alice = make_user(live, "alice")
    created = client.simulate_post(
        "/api/v1/webhooks/",
        json={"url": "https://hooks.example.org/in", "events": ["worker.created"]},
        headers=alice.headers,
    )
    assert created.status_code == 201, created.text
    hook, huge = created.json["id"], 99999999999999999999
    deliveries = client.simulate_get(
        f"/api/v1/webhooks/{hook}/deliveries/", params={"after": str(huge)}, headers=alice.headers
    )
    replay = client.simulate_post(
        f"/api/v1/webhooks/{hook}/replay/", json={"from_position": huge}, headers=alice.headers
    )
    for result in (deliveries, replay):
        assert result.status_code == 400, result.text
        assert result.json["type"] == "validation_error"


def test_cli_audit_has_the_same_filters(live: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker_runs import cli, cli_context

    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    a = create_run_chain(live, alice, "alice-ocr")
    create_run_chain(live, bob, "bob-ocr")
    monkeypatch.setattr(cli_context, "bootstrap", lambda: live)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli.main, ["audit", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    lines = [json.loads(line) for line in run("--worker-run", a.run_id).splitlines()]
    assert [e["position"] for e in lines] == [a.position]
    as_bob = [json.loads(line) for line in run("--stream", a.worker_id, "--as", "bob").splitlines()]
    assert as_bob == []
    as_alice = [json.loads(line) for line in run("--stream", a.worker_id, "--as", alice.user_id).splitlines()]
    assert len(as_alice) == 3
    rows = list(csv.DictReader(io.StringIO(run("--type", "UserWorkerRunCreated", "--format", "csv"))))
    assert len(rows) == 2
    assert run("--since", "2999-01-01") == ""
    assert len(run("--until", "2999-01-01").splitlines()) == len(list(live.store.iter_all()))
    bad = runner.invoke(cli.main, ["audit", "--as", "nobody"])
    assert bad.exit_code != 0
