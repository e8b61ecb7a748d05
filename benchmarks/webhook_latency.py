"""Webhook delivery latency, end to end: command appended -> kicker -> Redis -> Celery worker
-> HTTP POST received by a local receiver. Prints p50/p90/p99 over N paced run creations.

    WORKER_RUNS_WEBHOOK_ALLOW_PRIVATE is forced on (the receiver is on 127.0.0.1).
    python benchmarks/webhook_latency.py [--runs 300] [--url postgresql+psycopg://...] [--redis redis://...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

import redis
import sqlalchemy as sa
from celery.contrib.testing.worker import start_worker

from commands.messages import CreateUserRun, CreateWorker, CreateWorkerVersion, RegisterUser
from domain.actor import Actor
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from integrations import subscriptions as subs
from integrations.kicker import WebhookKicker
from tasks.webhooks import WebhookPublisher
from worker_runs.bootstrap import bootstrap, utc_now
from worker_runs.settings import Settings


def receiver(received: dict[str, float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received[json.loads(body)["data"]["id"]] = time.perf_counter()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--pace", type=float, default=0.05, help="Seconds between two run creations.")
    parser.add_argument("--poll", type=float, default=0.05, help="The kicker's poll interval.")
    args = parser.parse_args()

    schema = f"bench_hooks_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(args.url, connect_args={"options": f"-csearch_path={schema}"})
    tag = uuid.uuid4().hex[:8]
    settings = replace(
        Settings(home=Path(mkdtemp()), database_url=args.url),
        broker_url=args.redis,
        celery_queue=f"bench-{tag}",
        broker_prefix=f"bench-{tag}:",
        webhook_allow_private=True,
    )
    received: dict[str, float] = {}
    server = receiver(received)
    stop = threading.Event()
    try:
        upgrade(engine)
        c = bootstrap(settings, engine=engine)
        user_id = c.bus.handle(RegisterUser("bench", None, False)).data["user_id"]
        actor = Actor(user_id)
        worker_id = c.bus.handle(CreateWorker(name="ocr", slug="ocr", type="ocr"), actor=actor).data[
            "worker_id"
        ]
        subs.create(
            engine,
            subs.Caller(actor),
            url=f"http://127.0.0.1:{server.server_address[1]}/",
            event_types=["worker_run.created"],
            secret=None,
            allow_private=True,
            now=utc_now(),
        )
        kicker = WebhookKicker(engine, WebhookPublisher(c.celery), poll_interval=args.poll)
        kicker_thread = threading.Thread(target=kicker.run, args=(stop,), daemon=True)
        sent: dict[str, float] = {}
        with start_worker(c.celery, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            kicker_thread.start()
            for _ in range(args.runs):
                version_id = c.bus.handle(CreateWorkerVersion(worker_id=worker_id), actor=actor).data[
                    "version_id"
                ]
                result = c.bus.handle(CreateUserRun(worker_version_id=version_id), actor=actor)
                sent[result.data["run_id"]] = time.perf_counter()
                time.sleep(args.pace)
            deadline = time.monotonic() + 60
            while len(received) < len(sent) and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            kicker_thread.join(timeout=10)
        latencies = sorted((received[k] - sent[k]) * 1000 for k in sent if k in received)
        q = statistics.quantiles(latencies, n=100)
        print(
            f"{len(latencies)}/{len(sent)} delivered; kicker poll {args.poll}s, pace {args.pace}s, "
            f"PostgreSQL + Redis + 1 solo Celery worker"
        )
        print(f"latency ms: p50 {q[49]:.1f}  p90 {q[89]:.1f}  p99 {q[98]:.1f}  max {latencies[-1]:.1f}")
    finally:
        stop.set()
        server.shutdown()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        client = redis.Redis.from_url(args.redis)
        keys = list(client.scan_iter(match=f"bench-{tag}:*", count=1000))
        if keys:
            client.delete(*keys)


if __name__ == "__main__":
    main()
