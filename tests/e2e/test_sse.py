"""The live stream (GET /api/v1/events/stream) over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import http.client
import json
import threading
import time
from pathlib import Path

import falcon.testing
import pytest
from sqlalchemy.engine import Engine

from api.app import create_app
from api.ui.session import COOKIE_NAME, SessionCodec, load_secret_key
from commands.tokens import hash_token
from domain.actor import Actor
from integrations import live as live_module
from integrations.live import EventStream, StreamOptions
from integrations.stream_slots import StreamLimitReached, StreamSlots
from tests.api_support import ServerThread, make_user, revoke
from tests.conftest import settings_for
from tests.integration_support import SseClient, create_run_chain, fast_settings
from tests.waiting import wait_until
from worker_runs.bootstrap import Container, bootstrap

STREAM = "/api/v1/events/stream"


@pytest.fixture
def server(live: Container):
    with ServerThread(create_app(live)) as running:
        yield running


def test_stream_sends_new_events_live_and_resumes_after_last_event_id(
    live: Container, server: ServerThread
) -> None:
    alice = make_user(live, "alice")
    client = SseClient(server.port, f"{STREAM}?after=0", alice.headers)
    assert client.response.status == 200
    assert client.response.getheader("Content-Type").startswith("text/event-stream")
    assert client.response.getheader("Cache-Control") == "no-store"
    first = client.messages_until(lambda m: m.event == "user.created")
    assert first[-1].json["data"]["id"] == alice.user_id
    assert client.retry == 500

    chain = create_run_chain(live, alice, "ocr")
    seen = client.messages_until(lambda m: m.event == "worker_run.created")
    run = seen[-1].json
    assert run["data"]["id"] == chain.run_id and run["position"] == chain.position
    assert seen[-1].id == str(chain.position)
    types = [m.event for m in seen]
    assert types == ["worker_type.created", "worker.created", "worker_version.created", "worker_run.created"]
    positions = [int(m.id) for m in [*first, *seen]]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    client.close()

    # Reconnect from the second of those events: exactly the ones after it, in order.
    resume_from = seen[1].id
    again = SseClient(server.port, STREAM, {**alice.headers, "Last-Event-ID": resume_from})
    resumed = again.messages_until(lambda m: m.event == "worker_run.created")
    assert [m.id for m in resumed] == [m.id for m in seen[2:]]
    again.close()


def test_heartbeats_and_a_fresh_stream_starts_now(live: Container, server: ServerThread) -> None:
    alice = make_user(live, "alice")
    old = create_run_chain(live, alice, "old")
    client = SseClient(server.port, STREAM, alice.headers)
    client.wait_for_comment("heartbeat")  # nothing to send for a heartbeat interval
    new = create_run_chain(live, alice, "new")
    seen = client.messages_until(lambda m: m.event == "worker_run.created")
    # Without a cursor the stream starts now: nothing from before it opened is replayed.
    assert all(int(m.id) > old.position for m in seen)
    assert seen[-1].json["data"]["id"] == new.run_id
    assert "heartbeat" in client.comments
    client.close()


def test_a_user_sees_only_what_they_may_see(live: Container, server: ServerThread) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    admin = make_user(live, "root", admin=True)
    bob_stream = SseClient(server.port, f"{STREAM}?after=0", bob.headers)
    admin_stream = SseClient(server.port, f"{STREAM}?after=0", admin.headers)
    alice_chain = create_run_chain(live, alice, "alice-ocr")
    bob_chain = create_run_chain(live, bob, "bob-ocr")
    bob_seen = bob_stream.messages_until(lambda m: m.event == "worker_run.created")
    assert bob_seen[-1].json["data"]["id"] == bob_chain.run_id
    ids = {m.json["data"].get("id") for m in bob_seen}
    assert alice.user_id not in ids and alice_chain.run_id not in ids and alice_chain.worker_id not in ids
    admin_seen = admin_stream.messages_until(lambda m: m.json["data"].get("id") == bob_chain.run_id)
    assert alice_chain.run_id in {m.json["data"].get("id") for m in admin_seen}
    bob_stream.close()
    admin_stream.close()


def test_unauthenticated_is_401_and_bad_last_event_id_is_400(live: Container, server: ServerThread) -> None:
    alice = make_user(live, "alice")
    client = SseClient(server.port, STREAM, {})
    assert client.response.status == 401
    client.close()
    client = SseClient(server.port, STREAM, {**alice.headers, "Last-Event-ID": "nope"})
    assert client.response.status == 400
    client.close()


def test_disconnect_ends_the_stream_and_no_connection_is_held_between_polls(
    live: Container,
    server: ServerThread,
) -> None:
    alice = make_user(live, "alice")
    before = threading.active_count()
    # Each answered (headers read): its server thread is streaming.
    clients = [SseClient(server.port, STREAM, alice.headers) for _ in range(3)]
    assert threading.active_count() >= before + 3
    # Idle streams poll, but between polls they hold no pooled connection.
    samples = []
    for _ in range(20):
        samples.append(live.engine.pool.checkedout())
        time.sleep(0.02)
    assert min(samples) == 0
    for client in clients:
        client.close()
    assert wait_until(lambda: threading.active_count() <= before, timeout=5)


def test_the_web_uis_session_cookie_authenticates_the_stream(live: Container, server: ServerThread) -> None:
    from api.ui.session import COOKIE_NAME, SessionCodec, load_secret_key
    from commands.tokens import hash_token

    alice = make_user(live, "alice")
    cookie, _ = SessionCodec(load_secret_key(live.settings)).issue(hash_token(alice.token))
    client = SseClient(server.port, f"{STREAM}?after=0", {"Cookie": f"{COOKIE_NAME}={cookie}"})
    assert client.response.status == 200
    chain = create_run_chain(live, alice, "ocr")
    seen = client.messages_until(lambda m: m.event == "worker_run.created")
    assert seen[-1].json["data"]["id"] == chain.run_id
    client.close()


# --- a stream ends with its credential ----------------------------------------------------------


def _read_until_closed(client: SseClient) -> float:
    """Read (events, heartbeats) until the server ends the stream; the seconds it took."""
    start = time.monotonic()
    with pytest.raises(EOFError):
        while True:
            client.next_message()  # a socket timeout (the stream went on) fails the test
    return time.monotonic() - start


def test_revoking_the_token_ends_an_open_stream(live: Container, server: ServerThread) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    recheck = live.settings.sse_auth_recheck_seconds
    alice_stream = SseClient(server.port, f"{STREAM}?after=0", alice.headers, timeout=5)
    bob_stream = SseClient(server.port, STREAM, bob.headers, timeout=5)
    alice_stream.messages_until(lambda m: m.event == "user.created")  # open and streaming

    revoke(live, alice)
    elapsed = _read_until_closed(alice_stream)
    # Within the re-check interval (plus a poll and some scheduling slack), not at max_seconds.
    assert elapsed < recheck + 1.5, elapsed
    assert "credentials revoked" in alice_stream.comments
    alice_stream.close()
    # Reconnecting (what EventSource does) is refused: a browser's EventSource then stops.
    again = SseClient(server.port, STREAM, alice.headers)
    assert again.response.status == 401
    again.close()

    # Someone else's stream is not affected.
    chain = create_run_chain(live, bob, "bob-ocr")
    seen = bob_stream.messages_until(lambda m: m.event == "worker_run.created")
    assert seen[-1].json["data"]["id"] == chain.run_id
    bob_stream.close()


def test_signing_out_ends_the_sessions_open_stream_and_its_cookie(
    live: Container, server: ServerThread,
) -> None:
    alice = make_user(live, "alice")
    codec = SessionCodec(load_secret_key(live.settings))
    signed_out, session = codec.issue(hash_token(alice.token))
    other, _ = codec.issue(hash_token(alice.token))  # alice's other browser
    stream = SseClient(server.port, STREAM, {"Cookie": f"{COOKIE_NAME}={signed_out}"}, timeout=5)
    other_stream = SseClient(server.port, STREAM, {"Cookie": f"{COOKIE_NAME}={other}"}, timeout=5)
    assert stream.response.status == other_stream.response.status == 200

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/sign-out", body=f"csrf_token={codec.csrf_token(session)}", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{COOKIE_NAME}={signed_out}",
    })
    assert conn.getresponse().status == 303
    conn.close()

    elapsed = _read_until_closed(stream)
    assert elapsed < live.settings.sse_auth_recheck_seconds + 1.5, elapsed
    stream.close()
    # The old cookie, replayed, no longer opens a stream.
    replay = SseClient(server.port, STREAM, {"Cookie": f"{COOKIE_NAME}={signed_out}"})
    assert replay.response.status == 401
    replay.close()
    # The other session streams on.
    chain = create_run_chain(live, alice, "ocr")
    seen = other_stream.messages_until(lambda m: m.event == "worker_run.created")
    assert seen[-1].json["data"]["id"] == chain.run_id
    other_stream.close()


BAD_STREAM_PARAMS = [{"after": "-1"}, {"after": "soon"}, {"types": "no.such_type"}, {"x": "1"}]


@pytest.mark.parametrize("params", BAD_STREAM_PARAMS)
def test_bad_stream_parameters_are_refused_before_streaming(live: Container, params: dict[str, str]) -> None:
    alice = make_user(live, "alice")
    client = falcon.testing.TestClient(create_app(live))
    result = client.simulate_get(STREAM, params=params, headers=alice.headers)
    assert result.status_code == 400
    assert result.json["type"] == "validation_error"


# --- stream limits: a stream holds a server thread, so each process caps how many are open ---


def _limited(engine: Engine, tmp_path: Path, **overrides: object) -> Container:
    return bootstrap(fast_settings(settings_for(engine, tmp_path), **overrides), engine=engine)


def _open_when_free(port: int, headers: dict[str, str], seconds: float = 5.0) -> SseClient:
    """A stream, retried until a slot frees: the server notices a gone client at its next write."""
    deadline = time.monotonic() + seconds
    while True:
        client = SseClient(port, STREAM, headers)
        if client.response.status == 200 or time.monotonic() > deadline:
            return client
        client.close()
        time.sleep(0.05)


def _refused(client: SseClient) -> tuple[int, dict, str | None]:
    body = json.loads(client.response.read())
    status, retry_after = client.response.status, client.response.getheader("Retry-After")
    client.close()
    return status, body, retry_after


def test_streams_are_capped_per_user_and_per_process_and_closing_one_frees_a_slot(
    engine: Engine, tmp_path: Path
) -> None:
    live = _limited(engine, tmp_path, sse_max_streams=3, sse_max_streams_per_user=2)
    alice, bob, carol = make_user(live, "alice"), make_user(live, "bob"), make_user(live, "carol")
    with ServerThread(create_app(live)) as server:
        mine = [SseClient(server.port, STREAM, alice.headers) for _ in range(2)]
        assert [c.response.status for c in mine] == [200, 200]
        status, body, retry_after = _refused(SseClient(server.port, STREAM, alice.headers))
        assert status == 429 and retry_after == "1"
        assert body["type"] == "client_error" and body["errors"][0]["code"] == "too_many_streams"

        bobs = SseClient(server.port, STREAM, bob.headers)
        assert bobs.response.status == 200  # alice's limit is hers: the process had a slot left
        status, body, retry_after = _refused(SseClient(server.port, STREAM, carol.headers))
        assert status == 503 and retry_after == "1"
        assert body["type"] == "client_error" and body["errors"][0]["code"] == "too_many_streams"

        # A client that goes away gives its slot back (to anyone).
        mine.pop().close()
        carols = _open_when_free(server.port, carol.headers)
        assert carols.response.status == 200
        bobs.close()
        again = _open_when_free(server.port, alice.headers)
        assert again.response.status == 200
        for client in (*mine, carols, again):
            client.close()


def test_a_stream_that_ends_by_itself_frees_its_slot(engine: Engine, tmp_path: Path) -> None:
    live = _limited(engine, tmp_path, sse_max_streams=1, sse_max_seconds=0.3)
    alice = make_user(live, "alice")
    with ServerThread(create_app(live)) as server:
        for _ in range(3):
            client = SseClient(server.port, STREAM, alice.headers)
            assert client.response.status == 200
            assert client.response.read().startswith(b"retry:")  # read to the stream's end
            client.close()


def test_a_slot_is_given_back_once_however_the_stream_ends(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots = StreamSlots(max_streams=1, max_per_user=1)
    options = StreamOptions(poll_interval=0.01, heartbeat=1.0, retry_ms=500, max_seconds=5.0)

    def stream() -> EventStream:
        slot = slots.acquire("u1")
        return EventStream(engine, Actor("u1"), after=0, types=None, options=options, slot=slot)

    # Closed by the server (the client went away), twice: one release.
    opened = stream()
    next(opened)
    with pytest.raises(StreamLimitReached):
        slots.acquire("u2")
    opened.close()
    opened.close()
    assert slots.open_streams() == 0

    # An error while streaming.
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(live_module, "read_page", broken)
    failing = stream()
    with pytest.raises(RuntimeError):
        list(failing)
    assert slots.open_streams() == 0

    # A response dropped before the server ever iterated it.
    stream()
    gc.collect()
    assert slots.open_streams() == 0 and slots.open_streams("u1") == 0
