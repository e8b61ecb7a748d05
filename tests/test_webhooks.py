"""Webhook subscriptions and delivery, driven directly (no broker): signatures, retries,
parking, resume, replay, 410, rotation, the URL guard, the API and the CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from standardwebhooks.webhooks import WebhookVerificationError

from api.app import create_app
from integrations import signing
from integrations.delivery import Deliverer, DeliveryPolicy, Outcome, backoff_delay
from tasks.webhooks import policy_from
from tests.api_support import ApiUser, make_user
from tests.conftest import settings_for
from tests.integration_support import create_run_chain, fast_settings
from tests.webhook_receiver import Receiver, verify
from worker_runs.bootstrap import Container, bootstrap

HOOKS = "/api/v1/webhooks/"


@pytest.fixture
def live(engine: Engine, tmp_path: Path) -> Container:
    return bootstrap(fast_settings(settings_for(engine, tmp_path)), engine=engine)


@pytest.fixture
def client(live: Container) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(live))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def subscribe(
    client: falcon.testing.TestClient, user: ApiUser, url: str, events: list[str], **extra: object
) -> dict:
    result = client.simulate_post(HOOKS, json={"url": url, "events": events, **extra}, headers=user.headers)
    assert result.status_code == 201, result.json
    return result.json


def drain(live: Container, sub_id: str, *, rounds: int = 200) -> list[Outcome]:
    """Run deliveries as the task would, until idle or paused (retries wait their back-off)."""
    deliverer = Deliverer(live.engine, policy_from(live.settings))
    outcomes = []
    for _ in range(rounds):
        outcome = deliverer.run(sub_id)
        outcomes.append(outcome)
        if outcome.state in ("idle", "paused", "disabled", "inactive"):
            return outcomes
        if outcome.state == "retry":
            import time

            time.sleep(outcome.retry_after or 0)
    raise AssertionError(f"never settled: {outcomes[-3:]}")


def test_each_run_created_event_once_with_a_valid_signature_in_order(
    live: Container,
    client: falcon.testing.TestClient,
    receiver: Receiver,
) -> None:
    alice = make_user(live, "alice")
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    assert sub["secret"].startswith("whsec_") and sub["state"] == "active"
    assert "secret" not in client.simulate_get(f"{HOOKS}{sub['id']}/", headers=alice.headers).json
    chains = [create_run_chain(live, alice, f"ocr-{i}") for i in range(4)]
    drain(live, sub["id"])
    got = receiver.ok()
    assert [verify(sub["secret"], r)["data"]["id"] for r in got] == [c.run_id for c in chains]
    assert len({r.webhook_id for r in got}) == 4
    assert [r.json["position"] for r in got] == [c.position for c in chains]
    assert all(r.webhook_id == r.json["id"] for r in got)
    # A second run of the task sends nothing again.
    drain(live, sub["id"])
    assert len(receiver.requests) == 4
    tampered = type(got[0])(dict(got[0].headers), got[0].body.replace(b"ocr", b"xyz") + b" ", 200)
    with pytest.raises(WebhookVerificationError):
        verify(sub["secret"], tampered)


def test_three_failures_then_success_is_one_logical_delivery(
    live: Container,
    client: falcon.testing.TestClient,
    receiver: Receiver,
) -> None:
    alice = make_user(live, "alice")
    receiver.respond = lambda n, body: (500, 429, 503)[n] if n < 3 else 200
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    first = create_run_chain(live, alice, "one")
    second = create_run_chain(live, alice, "two")
    drain(live, sub["id"])
    assert [r.status for r in receiver.requests] == [500, 429, 503, 200, 200]
    ids = [r.webhook_id for r in receiver.requests]
    assert ids[:4] == [ids[0]] * 4 and ids[4] != ids[0]
    assert [verify(sub["secret"], r)["data"]["id"] for r in receiver.ok()] == [first.run_id, second.run_id]
    assert len({r.body for r in receiver.requests[:4]}) == 1  # the same bytes every time
    deliveries = client.simulate_get(f"{HOOKS}{sub['id']}/deliveries/", headers=alice.headers).json["results"]
    assert [d["status"] for d in deliveries] == ["delivered", "delivered"]
    assert [a["status_code"] for a in deliveries[0]["attempts"]] == [500, 429, 503, 200]
    assert deliveries[0]["event_id"] == ids[0]


def test_receiver_down_past_the_budget_parks_pauses_then_resume_loses_nothing(
    live: Container,
    client: falcon.testing.TestClient,
    receiver: Receiver,
) -> None:
    alice = make_user(live, "alice")
    url = receiver.url
    sub = subscribe(client, alice, url, ["worker_run.created", "worker.created"])
    receiver.stop()  # down: connection refused
    chains = [create_run_chain(live, alice, f"ocr-{i}") for i in range(3)]
    outcomes = drain(live, sub["id"])
    assert outcomes[-1].state == "paused"
    state = client.simulate_get(f"{HOOKS}{sub['id']}/", headers=alice.headers).json
    assert state["state"] == "paused" and "parked after 5 attempts" in state["state_reason"]
    parked = client.simulate_get(
        f"{HOOKS}{sub['id']}/deliveries/", params={"status": "parked"}, headers=alice.headers
    ).json["results"]
    assert len(parked) == 1 and parked[0]["attempt_count"] == 5 and parked[0]["parked_reason"]
    assert parked[0]["event_type"] == "worker.created"
    # Paused: nothing moves.
    assert Deliverer(live.engine, policy_from(live.settings)).run(sub["id"]).state == "inactive"

    back = Receiver().start(port=int(url.split(":")[2].split("/")[0]))
    try:
        resumed = client.simulate_post(f"{HOOKS}{sub['id']}/resume/", headers=alice.headers)
        assert resumed.status_code == 200 and resumed.json["state"] == "active"
        drain(live, sub["id"])
        got = [verify(sub["secret"], r) for r in back.ok()]
        expected = []
        for c in chains:
            expected += [("worker.created", c.worker_id), ("worker_run.created", c.run_id)]
        assert [(e["type"], e["data"]["id"]) for e in got] == expected
        assert got[0]["id"] == parked[0]["event_id"]  # the parked event, same webhook-id

        # Replay from the second run's position: everything from there, again, in order.
        replay = client.simulate_post(
            f"{HOOKS}{sub['id']}/replay/", json={"from_position": chains[1].position}, headers=alice.headers
        )
        assert replay.status_code == 200
        drain(live, sub["id"])
        again = [verify(sub["secret"], r) for r in back.ok()][len(got) :]
        assert [(e["type"], e["data"]["id"]) for e in again] == expected[3:]
    finally:
        back.stop()


def test_410_disables_and_other_4xx_parks(
    live: Container, client: falcon.testing.TestClient, receiver: Receiver
) -> None:
    alice = make_user(live, "alice")
    receiver.respond = lambda n, body: 410
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    create_run_chain(live, alice, "one")
    assert drain(live, sub["id"])[-1].state == "disabled"
    body = client.simulate_get(f"{HOOKS}{sub['id']}/", headers=alice.headers).json
    assert body["state"] == "disabled" and "410" in body["state_reason"]
    assert len(receiver.requests) == 1

    receiver.respond = lambda n, body: 400
    sub2 = subscribe(client, alice, receiver.url, ["worker_run.created"])
    create_run_chain(live, alice, "two")
    assert drain(live, sub2["id"])[-1].state == "paused"
    assert len(receiver.requests) == 2  # no retries for a 400


def test_secret_rotation_signs_with_both(
    live: Container, client: falcon.testing.TestClient, receiver: Receiver
) -> None:
    alice = make_user(live, "alice")
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    rotated = client.simulate_post(f"{HOOKS}{sub['id']}/rotate-secret/", headers=alice.headers)
    assert rotated.status_code == 200 and rotated.json["rotating"] is True
    new_secret = rotated.json["secret"]
    assert new_secret != sub["secret"]
    create_run_chain(live, alice, "one")
    drain(live, sub["id"])
    [received] = receiver.ok()
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verify(new_secret, received) == verify(sub["secret"], received)
    chosen = signing.generate_secret()
    mine = client.simulate_post(
        f"{HOOKS}{sub['id']}/rotate-secret/", json={"secret": chosen}, headers=alice.headers
    )
    assert mine.json["secret"] == chosen


def test_test_event_and_own_secret(
    live: Container, client: falcon.testing.TestClient, receiver: Receiver
) -> None:
    alice = make_user(live, "alice")
    secret = signing.generate_secret()
    sub = subscribe(client, alice, receiver.url, ["worker.created"], secret=secret)
    assert "secret" not in sub
    result = client.simulate_post(f"{HOOKS}{sub['id']}/test/", headers=alice.headers)
    assert result.status_code == 200 and result.json["ok"] is True and result.json["status_code"] == 200
    [received] = receiver.ok()
    payload = verify(secret, received)
    assert payload["type"] == "webhook.test" and payload["data"]["subscription_id"] == sub["id"]
    deliveries = client.simulate_get(
        f"{HOOKS}{sub['id']}/deliveries/", params={"status": "test"}, headers=alice.headers
    ).json["results"]
    assert deliveries[0]["event_id"] == received.webhook_id


def test_crud_visibility_and_validation(
    live: Container, client: falcon.testing.TestClient, receiver: Receiver
) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    admin = make_user(live, "root", admin=True)
    sub = subscribe(client, alice, receiver.url, ["worker.created"])
    path = f"{HOOKS}{sub['id']}/"
    assert client.simulate_get(path, headers=bob.headers).status_code == 404
    assert client.simulate_get(path, headers=admin.headers).status_code == 200
    assert client.simulate_get(HOOKS, headers=bob.headers).json["count"] == 0
    listed = client.simulate_get(HOOKS, headers=alice.headers).json
    assert listed["count"] == 1 and listed["results"][0]["id"] == sub["id"]
    assert client.simulate_get(HOOKS, headers=admin.headers).json["count"] == 1
    patched = client.simulate_patch(
        path,
        json={"events": ["worker.created", "worker_run.created"], "state": "paused"},
        headers=alice.headers,
    )
    assert patched.status_code == 200 and patched.json["state"] == "paused"
    assert patched.json["events"] == ["worker.created", "worker_run.created"]
    bad = client.simulate_post(HOOKS, json={"url": receiver.url, "events": ["nope"]}, headers=alice.headers)
    assert bad.status_code == 400
    bad = client.simulate_post(
        HOOKS, json={"url": "ftp://x", "events": ["worker.created"]}, headers=alice.headers
    )
    assert bad.status_code == 400
    log = client.simulate_get(f"{path}changes/", headers=alice.headers).json
    assert [c["change"] for c in log["results"]] == ["created", "updated"]
    assert {c["actor_id"] for c in log["results"]} == {alice.user_id}
    assert all(c["correlation_id"] for c in log["results"])
    assert client.simulate_get(f"{path}changes/", headers=bob.headers).status_code == 404
    assert client.simulate_delete(path, headers=bob.headers).status_code == 404
    assert client.simulate_delete(path, headers=alice.headers).status_code == 204
    assert client.simulate_get(path, headers=alice.headers).status_code == 404


def test_private_addresses_are_refused_unless_allowed(engine: Engine, tmp_path: Path) -> None:
    strict = bootstrap(
        fast_settings(settings_for(engine, tmp_path), webhook_allow_private=False), engine=engine
    )
    client = falcon.testing.TestClient(create_app(strict))
    alice = make_user(strict, "alice")
    for url in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://192.168.0.1/",
    ):
        result = client.simulate_post(
            HOOKS, json={"url": url, "events": ["worker.created"]}, headers=alice.headers
        )
        assert result.status_code == 400, url
        assert result.json["errors"][0]["code"] == "url_refused"


def test_backoff_is_exponential_with_jitter() -> None:
    policy = DeliveryPolicy(backoff=1.0, backoff_max=30.0)
    assert [backoff_delay(n, policy, lambda: 1.0) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 16, 30]
    assert [backoff_delay(n, policy, lambda: 0.0) for n in (1, 2, 3)] == [0.5, 1, 2]


def test_cli_webhooks(
    live: Container, client: falcon.testing.TestClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker_runs import cli, cli_context

    alice = make_user(live, "alice")
    monkeypatch.setattr(cli_context, "bootstrap", lambda: live)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli.main, ["webhooks", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    created = json.loads(
        run("create", "--as", "alice", "--url", receiver.url, "--event", "worker_run.created")
    )
    sub_id = created["id"]
    assert created["secret"].startswith("whsec_")
    assert [s["id"] for s in map(json.loads, run("list", "--as", "alice").splitlines())] == [sub_id]
    chain = create_run_chain(live, alice, "one")
    drain(live, sub_id)
    deliveries = [json.loads(line) for line in run("deliveries", sub_id).splitlines()]
    assert deliveries[0]["position"] == chain.position and deliveries[0]["status"] == "delivered"
    assert json.loads(run("test", sub_id))["ok"] is True
    rotated = json.loads(run("rotate-secret", sub_id))
    assert rotated["secret"] != created["secret"]
    assert (
        json.loads(run("replay", sub_id, "--from", str(chain.position)))["checkpoint"] == chain.position - 1
    )
    drain(live, sub_id)
    run_ids = [r.json["data"]["id"] for r in receiver.ok() if r.json["type"] == "worker_run.created"]
    assert run_ids == [chain.run_id, chain.run_id]
    assert json.loads(run("resume", sub_id))["state"] == "active"
    missing = runner.invoke(cli.main, ["webhooks", "resume", "00000000-0000-4000-8000-000000000000"])
    assert missing.exit_code == 1 and "No such webhook subscription" in missing.output
    refused = runner.invoke(
        cli.main, ["webhooks", "create", "--as", "alice", "--url", "ftp://x", "--event", "worker.created"]
    )
    assert refused.exit_code == 1 and "http" in refused.output


def test_replay_during_a_delivery_run_is_not_overtaken(
    live: Container,
    client: falcon.testing.TestClient,
    receiver: Receiver,
) -> None:
    """A replay while a run is delivering: the run cannot move the checkpoint past it."""
    alice = make_user(live, "alice")
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    chains = [create_run_chain(live, alice, f"ocr-{i}") for i in range(3)]
    replayed = threading.Event()

    def respond(n: int, body: bytes) -> int:
        if n == 2 and not replayed.is_set():
            # The third event is on the wire when the owner replays from the first one.
            result = client.simulate_post(
                f"{HOOKS}{sub['id']}/replay/",
                json={"from_position": chains[0].position},
                headers=alice.headers,
            )
            assert result.status_code == 200
            replayed.set()
        return 200

    receiver.respond = respond
    drain(live, sub["id"])
    drain(live, sub["id"])
    ids = [r.json["data"]["id"] for r in receiver.ok()]
    expected = [c.run_id for c in chains]
    assert ids[:3] == expected and ids[-3:] == expected
