"""Webhook subscriptions and delivery, driven directly (no broker): signatures, retries,
parking, resume, replay, 410, rotation, the URL guard, the API and the CLI."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import falcon.testing
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from standardwebhooks.webhooks import WebhookVerificationError

from api.app import create_app
from domain import events as ev
from eventstore import Metadata, NewEvent, StreamAppend
from integrations import signing
from integrations.delivery import DeliveryPolicy, Outcome, Response, backoff_delay, classify
from tests.api_support import ApiUser, make_user
from tests.conftest import settings_for
from tests.integration_support import create_run_chain, fast_settings
from tests.upcasting_support import OLD_PAYLOAD, V, W, bump, flatten_worker
from tests.webhook_receiver import Receiver, verify
from worker_runs.bootstrap import Container, bootstrap

HOOKS = "/api/v1/webhooks/"


def subscribe(
    client: falcon.testing.TestClient, user: ApiUser, url: str, events: list[str], **extra: object
) -> dict:
    result = client.simulate_post(HOOKS, json={"url": url, "events": events, **extra}, headers=user.headers)
    assert result.status_code == 201, result.json
    return result.json


def drain(live: Container, sub_id: str, *, rounds: int = 200) -> list[Outcome]:
    """Run deliveries as the task would, until idle or paused (retries wait their back-off)."""
    deliverer = live.deliverer
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
    assert live.deliverer.run(sub["id"]).state == "inactive"

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


# --- an event parked again, replays that only go back, DNS pinning --------------------------


def _parked(client: falcon.testing.TestClient, user: ApiUser, sub_id: str) -> list[dict]:
    return client.simulate_get(
        f"{HOOKS}{sub_id}/deliveries/", params={"status": "parked"}, headers=user.headers
    ).json["results"]


def test_an_event_parked_again_after_resume_pauses_again(
    live: Container, client: falcon.testing.TestClient, receiver: Receiver
) -> None:
    alice = make_user(live, "alice")
    codes = [400, 422, 403]
    receiver.respond = lambda n, body: codes[n] if n < len(codes) else 200
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    path = f"{HOOKS}{sub['id']}/"
    chain = create_run_chain(live, alice, "one")
    assert drain(live, sub["id"])[-1].state == "paused"
    [first] = _parked(client, alice, sub["id"])
    assert first["parked_reason"] == f"event {chain.position} parked: HTTP 400"

    # Resumed, it fails again: parked a second time (the same delivery), paused again.
    assert client.simulate_post(f"{path}resume/", headers=alice.headers).json["state"] == "active"
    assert drain(live, sub["id"])[-1].state == "paused"
    body = client.simulate_get(path, headers=alice.headers).json
    assert body["state"] == "paused" and body["state_reason"].endswith("HTTP 422")
    [second] = _parked(client, alice, sub["id"])
    assert second["id"] == first["id"] and second["parked_reason"].endswith("HTTP 422")
    assert [a["status_code"] for a in second["attempts"]] == [400, 422]
    assert len(receiver.requests) == 2  # no endless re-sending

    # PATCH state=active is a resume: the parked event is queued again (not left parked).
    patched = client.simulate_patch(path, json={"state": "active"}, headers=alice.headers)
    assert patched.status_code == 200 and patched.json["state"] == "active"
    assert _parked(client, alice, sub["id"]) == []
    assert drain(live, sub["id"])[-1].state == "paused"
    [third] = _parked(client, alice, sub["id"])
    assert third["parked_reason"].endswith("HTTP 403") and third["attempt_count"] == 1
    client.simulate_patch(path, json={"state": "active"}, headers=alice.headers)
    drain(live, sub["id"])
    assert [r.json["data"]["id"] for r in receiver.ok()] == [chain.run_id]
    [done] = client.simulate_get(f"{path}deliveries/", headers=alice.headers).json["results"]
    assert done["status"] == "delivered" and done["parked_reason"] is None
    assert [a["status_code"] for a in done["attempts"]] == [400, 422, 403, 200]


def test_replay_only_goes_back(
    live: Container,
    client: falcon.testing.TestClient,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker_runs import cli, cli_context

    alice = make_user(live, "alice")
    receiver.respond = lambda n, body: 400 if n == 0 else 200
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    path = f"{HOOKS}{sub['id']}/"
    chains = [create_run_chain(live, alice, f"ocr-{i}") for i in range(3)]
    assert drain(live, sub["id"])[-1].state == "paused"  # the first run's event is parked
    before = client.simulate_get(path, headers=alice.headers).json
    assert before["checkpoint"] < chains[0].position

    # Replaying from a later position would skip the parked event and the two after it.
    ahead = client.simulate_post(
        f"{path}replay/", json={"from_position": chains[2].position}, headers=alice.headers
    )
    assert ahead.status_code == 409
    assert ahead.json["type"] == "client_error"
    [error] = ahead.json["errors"]
    assert error["code"] == "replay_ahead" and error["attr"] == ["from_position"]
    assert "can only go back" in error["detail"]
    assert client.simulate_get(path, headers=alice.headers).json == before  # nothing moved

    monkeypatch.setattr(cli_context, "bootstrap", lambda: live)
    refused = CliRunner().invoke(
        cli.main, ["webhooks", "replay", sub["id"], "--from", str(chains[2].position)]
    )
    assert refused.exit_code == 1
    assert len(refused.output.strip().splitlines()) == 1 and "can only go back" in refused.output

    # From the checkpoint (or earlier): every event again, in order, none skipped.
    replayed = client.simulate_post(
        f"{path}replay/", json={"from_position": before["checkpoint"] + 1}, headers=alice.headers
    )
    assert replayed.status_code == 200 and replayed.json["state"] == "active"
    drain(live, sub["id"])
    assert [r.json["data"]["id"] for r in receiver.ok()] == [c.run_id for c in chains]


HOOK_HOST = "hooks.example.test"
#: a public address (example.com's), never actually connected to: the stub fails it
PUBLIC = "93.184.216.34"


class FakeDns:
    """`socket.getaddrinfo` for HOOK_HOST answering `answers` in turn (the last one repeats);
    connections to PUBLIC fail at once (no traffic leaves the test); the rest is real DNS."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
        import socket

        self.answers = list(answers)
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
            self.lookups.append(host)
            if host == PUBLIC:
                raise socket.gaierror(socket.EAI_NONAME, "the test's public address is unreachable")
            if host != HOOK_HOST:
                return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
            address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            if ":" in address:
                return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_dns_rebinding_cannot_reach_an_internal_address(
    engine: Engine, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = bootstrap(
        fast_settings(settings_for(engine, tmp_path), webhook_allow_private=False), engine=engine
    )
    client = falcon.testing.TestClient(create_app(strict))
    alice = make_user(strict, "alice")
    # Public when the URL is checked (creation, then delivery), loopback for any later lookup.
    dns = FakeDns(monkeypatch, PUBLIC, PUBLIC, "127.0.0.1")
    url = f"http://{HOOK_HOST}:{receiver.port}/hook"
    sub = subscribe(client, alice, url, ["worker_run.created"])
    create_run_chain(strict, alice, "one")
    outcome = strict.deliverer.run(sub["id"])
    assert outcome.state == "retry"
    assert receiver.requests == []  # the rebinding answer was never used
    assert dns.lookups.count(HOOK_HOST) == 2 and PUBLIC in dns.lookups  # connected to the checked one
    [delivery] = client.simulate_get(f"{HOOKS}{sub['id']}/deliveries/", headers=alice.headers).json["results"]
    assert delivery["attempts"][0]["error"].startswith("connection error")


def test_the_pinned_connection_keeps_the_host_name(
    live: Container,
    client: falcon.testing.TestClient,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = make_user(live, "alice")
    dns = FakeDns(monkeypatch, "127.0.0.1")
    sub = subscribe(client, alice, f"http://{HOOK_HOST}:{receiver.port}/hook?x=1", ["worker_run.created"])
    chain = create_run_chain(live, alice, "one")
    drain(live, sub["id"])
    [received] = receiver.ok()
    assert received.headers["host"] == f"{HOOK_HOST}:{receiver.port}"
    assert verify(sub["secret"], received)["data"]["id"] == chain.run_id
    assert dns.lookups.count(HOOK_HOST) == 1  # resolved once, at delivery


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    import subprocess

    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("cert_name", [HOOK_HOST, "someone-else.test"])
def test_https_to_a_pinned_address_verifies_the_host_name(
    live: Container,
    client: falcon.testing.TestClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cert_name: str,
) -> None:
    import ssl

    cert, key = _self_signed(tmp_path, cert_name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    FakeDns(monkeypatch, "127.0.0.1")
    tls = Receiver(tls=context).start()
    try:
        alice = make_user(live, "alice")
        sub = subscribe(client, alice, f"https://{HOOK_HOST}:{tls.port}/hook", ["worker.created"])
        result = client.simulate_post(f"{HOOKS}{sub['id']}/test/", headers=alice.headers)
        assert names == [HOOK_HOST]  # SNI names the host, not the pinned address
        if cert_name == HOOK_HOST:
            assert result.json["ok"] is True and len(tls.ok()) == 1
        else:
            # A certificate for another name is refused, although the address is the pinned one.
            assert result.json["ok"] is False and "connection error" in result.json["error"]
            assert tls.requests == []
    finally:
        tls.stop()


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2002:a00:1::1",  # 6to4 around 10.0.0.1
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_ipv6_forms_of_internal_ipv4_addresses_are_refused(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    strict = bootstrap(
        fast_settings(settings_for(engine, tmp_path), webhook_allow_private=False), engine=engine
    )
    client = falcon.testing.TestClient(create_app(strict))
    alice = make_user(strict, "alice")
    # Through DNS (an AAAA answer), as a rebinding attacker would serve them.
    FakeDns(monkeypatch, address)
    result = client.simulate_post(
        HOOKS, json={"url": f"http://{HOOK_HOST}/hook", "events": ["worker.created"]}, headers=alice.headers
    )
    assert result.status_code == 400 and result.json["errors"][0]["code"] == "url_refused"
    assert address in result.json["errors"][0]["detail"]


# --- the classification of one attempt's answer (pure) -------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "attempts", "kind", "retryable"),
    [
        (200, None, 1, "delivered", False),
        (204, None, 7, "delivered", False),
        (410, None, 1, "disable", False),
        (503, None, 1, "retry", True),
        (429, None, 2, "retry", True),
        (None, "timed out", 1, "retry", True),
        (503, None, 5, "park", True),  # out of attempts
        (None, "refused: private address", 1, "park", False),  # the address guard: never retried
        (404, None, 1, "park", False),
        (301, None, 1, "park", False),
    ],
)
def test_classify_one_answer(status: int | None, error: str | None, attempts: int, kind: str,
                             retryable: bool) -> None:
    verdict = classify(Response(status, error, 3), attempts, max_attempts=5)
    assert (verdict.kind, verdict.retryable) == (kind, retryable)
    if kind != "delivered":
        assert verdict.error == (error or f"HTTP {status}")


def test_an_event_without_its_upcaster_is_parked_with_the_reason_then_sent_once_it_is_deployed(
    live: Container, client: falcon.testing.TestClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run stored by an older schema version, the upcaster not shipped: the delivery parks it
    and pauses the subscription with a reason naming the missing upcaster (no traceback, nothing
    later sent out of order); with the upcaster deployed, resume sends it, upcast."""
    alice = make_user(live, "alice")
    sub = subscribe(client, alice, receiver.url, ["worker_run.created"])
    bump(monkeypatch, upcaster=False)
    position = live.store.append(
        [StreamAppend(f"local-process-{alice.user_id}", 0, [NewEvent(
            "UserWorkerRunCreated", {**OLD_PAYLOAD, "user_id": alice.user_id}, schema_version=1,
        )])],
        metadata=Metadata("user", alice.user_id, "c", "c", datetime.now(UTC)),
    ).last_position
    assert drain(live, sub["id"])[-1].state == "paused"
    state = client.simulate_get(f"{HOOKS}{sub['id']}/", headers=alice.headers).json
    assert state["state"] == "paused"
    assert state["state_reason"].startswith(f"event {position} parked: cannot decode the event: ")
    assert "no upcaster registered for version 1" in state["state_reason"]
    [parked] = _parked(client, alice, sub["id"])
    assert parked["event_type"] == "worker_run.created" and "UserWorkerRunCreated" in parked["parked_reason"]
    assert receiver.requests == []

    monkeypatch.setitem(ev.UPCASTERS, ("UserWorkerRunCreated", 1), flatten_worker)
    resumed = client.simulate_post(f"{HOOKS}{sub['id']}/resume/", headers=alice.headers)
    assert resumed.status_code == 200 and resumed.json["state"] == "active"
    drain(live, sub["id"])
    [sent] = [verify(sub["secret"], r) for r in receiver.ok()]
    assert sent["position"] == position
    assert (sent["data"]["worker_id"], sent["data"]["worker_version_id"]) == (W, V)
