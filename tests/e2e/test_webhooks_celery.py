"""Webhooks through Celery with real workers (never task_always_eager): the kicker (run by the
relay) publishes `deliver(subscription_id)`, a worker delivers over HTTP to a real receiver. A
worker process killed in the middle of a delivery skips nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from integrations import subscriptions as subs
from integrations.kicker import WebhookKicker
from projections.relay import Relay
from tasks.webhooks import WebhookPublisher
from tests.api_support import make_user
from tests.broker import broker_container, real_worker
from tests.integration_support import create_run_chain, fast_settings
from tests.waiting import running
from tests.webhook_receiver import Receiver, verify
from worker_runs.bootstrap import Container, bootstrap, utc_now

ROOT = Path(__file__).resolve().parents[2]


def _container(engine: Engine, tmp_path: Path, broker: str) -> Container:
    base = broker_container(engine, tmp_path, broker)
    return bootstrap(fast_settings(base.settings), engine=engine)


@contextlib.contextmanager
def running_kicker(container: Container) -> Iterator[WebhookKicker]:
    kicker = WebhookKicker(
        container.engine, WebhookPublisher(container.celery), poll_interval=0.05, catchup_interval=1.0
    )
    # No projection to announce: the relay runs the kicker in its loop, under its lock.
    relay = Relay(container.engine, container.publisher, [], poll_interval=0.05, kickers=[kicker],
                  lock_path=container.settings.home / "relay.lock")
    with running(relay.run, name="test-kicker"):
        yield kicker


def _subscribe(container: Container, user, url: str) -> dict:
    return subs.create(
        container.engine,
        subs.Caller(user.actor),
        url=url,
        event_types=["worker_run.created"],
        secret=None,
        allow_private=True,
        now=utc_now(),
    )


def test_each_run_created_event_once_in_order_through_a_real_worker_with_retries(
    engine: Engine,
    tmp_path: Path,
    fake_broker: str,
    receiver: Receiver,
) -> None:
    container = _container(engine, tmp_path, fake_broker)
    alice = make_user(container, "alice")
    receiver.respond = lambda n, body: 503 if n < 3 else 200
    sub = _subscribe(container, alice, receiver.url)
    with real_worker(container), running_kicker(container):
        chains = [create_run_chain(container, alice, f"ocr-{i}") for i in range(6)]
        receiver.wait_for(lambda got: sum(r.status == 200 for r in got) >= 6)
        time.sleep(0.5)  # anything extra would arrive now
    ok = receiver.ok()
    assert [verify(sub["secret"], r)["data"]["id"] for r in ok] == [c.run_id for c in chains]
    assert len({r.webhook_id for r in ok}) == 6
    # The three failures were the first event's: one logical delivery, one webhook-id.
    assert [r.status for r in receiver.requests[:4]] == [503, 503, 503, 200]
    assert len({r.webhook_id for r in receiver.requests[:4]}) == 1


def _database_url(engine: Engine) -> str:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return url
    with engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    return f"{url}?options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def worker_process(container: Container) -> Iterator[subprocess.Popen[bytes]]:
    s = container.settings
    env = {
        **os.environ,
        "WORKER_RUNS_HOME": str(s.home),
        "WORKER_RUNS_DATABASE_URL": _database_url(container.engine),
        "WORKER_RUNS_BROKER_URL": str(s.broker_url),
        "WORKER_RUNS_CELERY_QUEUE": s.celery_queue,
        "WORKER_RUNS_BROKER_PREFIX": s.broker_prefix,
        "WORKER_RUNS_WEBHOOK_ALLOW_PRIVATE": "1",
        "WORKER_RUNS_WEBHOOK_TIMEOUT": str(s.webhook_timeout_seconds),
        "WORKER_RUNS_WEBHOOK_BACKOFF": "0.05",
        "WORKER_RUNS_WEBHOOK_BACKOFF_MAX": "0.2",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tasks.app",
            "worker",
            "--pool",
            "solo",
            "-Q",
            s.celery_queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_worker_killed_mid_delivery_skips_nothing(
    engine: Engine,
    tmp_path: Path,
    fake_broker: str,
    receiver: Receiver,
) -> None:
    container = _container(engine, tmp_path, fake_broker)
    alice = make_user(container, "alice")
    sub = _subscribe(container, alice, receiver.url)
    receiver.hold.set()  # the first delivery hangs in the receiver...
    chains = [create_run_chain(container, alice, f"ocr-{i}") for i in range(3)]
    with running_kicker(container):
        with worker_process(container) as process:
            assert receiver.held.wait(timeout=60), "the worker never delivered"
            process.send_signal(signal.SIGKILL)  # ...and the worker dies in the middle of it
            process.wait(timeout=30)
        receiver.hold.clear()
        # The kicker itself is restarted too: it holds no state that matters.
    more = [create_run_chain(container, alice, f"later-{i}") for i in range(2)]
    with real_worker(container), running_kicker(container):
        receiver.wait_for(lambda got: sum(r.status == 200 for r in got) >= 5, timeout=60)
        time.sleep(0.5)
    ok = receiver.ok()
    assert [verify(sub["secret"], r)["data"]["id"] for r in ok] == [c.run_id for c in [*chains, *more]]
    assert len({r.webhook_id for r in ok}) == 5
    with container.engine.connect() as conn:
        from integrations.tables import webhook_subscriptions

        checkpoint = conn.execute(sa.select(webhook_subscriptions.c.checkpoint)).scalar()
    assert checkpoint >= more[-1].position


def test_kicker_republishes_a_lost_message(
    engine: Engine,
    tmp_path: Path,
    fake_broker: str,
    receiver: Receiver,
) -> None:
    """Messages published while no worker listens and then purged (lost): the kicker's
    catch-up announces again, and the worker delivers everything."""
    container = _container(engine, tmp_path, fake_broker)
    alice = make_user(container, "alice")
    sub = _subscribe(container, alice, receiver.url)
    chains = [create_run_chain(container, alice, f"ocr-{i}") for i in range(2)]
    kicker = WebhookKicker(container.engine, WebhookPublisher(container.celery), catchup_interval=0.5)
    assert kicker.step() == [sub["id"]]
    container.celery.control.purge()
    assert kicker.step() == []  # announced, not served yet
    time.sleep(0.6)
    with real_worker(container):
        assert kicker.step() == [sub["id"]]
        receiver.wait_for(lambda got: len(got) >= 2)
    assert [verify(sub["secret"], r)["data"]["id"] for r in receiver.ok()] == [c.run_id for c in chains]
