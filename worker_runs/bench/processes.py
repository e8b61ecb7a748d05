"""Processes as deployed, for the `lag` and `http` scenarios: the read side (`worker-runs relay`,
which also runs the webhook kicker, and a Celery worker) on a broker queue and key prefix of their
own, and gunicorn (`worker-runs api`); each a child process in its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import redis
import requests

from projections.consistency import wait_for_position
from worker_runs.bench.runner import BenchContext
from worker_runs.bootstrap import Container


class Children:
    """Child processes, each in its own process group; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, env: dict[str, str], log: Path, commands: list[list[str]]) -> None:
        self.env = env
        self.log_path = log
        self.commands = commands
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Self:
        log = self.log_path.open("ab")
        common: dict[str, Any] = {"env": self.env, "stdout": log, "stderr": subprocess.STDOUT,
                                  "stdin": subprocess.DEVNULL, "start_new_session": True}
        try:
            for command in self.commands:
                self.procs.append(subprocess.Popen(command, **common))
        finally:
            log.close()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Only the children started here, by their own process group (each was started in a
        # new session): SIGTERM is Celery's warm shutdown, the relay's and gunicorn's clean stop.
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def check(self) -> None:
        """Fail (with the log's tail) if a child died: a dead worker would read as lag."""
        for proc, command in zip(self.procs, self.commands, strict=True):
            if proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{' '.join(command[1:4])} exited with {proc.returncode}:\n{tail}")


class ReadSide(Children):
    def __init__(self, env: dict[str, str], log: Path, *, concurrency: int = 2,
                 kicker_poll: float = 0.05) -> None:
        super().__init__(env, log, [
            [sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool=prefork",
             f"--concurrency={concurrency}", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            [sys.executable, "-m", "worker_runs.cli", "relay", "--webhook-poll", str(kicker_poll)],
        ])


class Gunicorn(Children):
    """`worker-runs api` (gunicorn) on 127.0.0.1:`port`."""

    def __init__(self, env: dict[str, str], log: Path, port: int, workers: int = 2) -> None:
        super().__init__(env, log, [[sys.executable, "-m", "worker_runs.cli", "api", "--host", "127.0.0.1",
                                     "--port", str(port), "--workers", str(workers)]])
        self.url = f"http://127.0.0.1:{port}"
        self.workers = workers

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            try:
                if requests.get(self.url + "/livez", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer at {self.url} within {timeout:.0f} s")


@contextmanager
def read_side(ctx: BenchContext, container: Container, *,
              kicker_poll: float = 0.05) -> Iterator[tuple[dict[str, str], ReadSide]]:
    """The read side on the run's database and on Redis (a queue and key prefix of this run,
    whose keys are deleted after), caught up with the log before it is yielded with the
    environment its children use (for more children: gunicorn)."""
    try:
        redis.Redis.from_url(ctx.broker_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"this scenario needs Redis at {ctx.broker_url}: {exc}") from None
    tag = uuid.uuid4().hex[:10]
    prefix = f"bench-{tag}:"
    env = ctx.environment(broker_url=ctx.broker_url, celery_queue=f"bench-{tag}", broker_prefix=prefix,
                          webhook_allow_private=True)
    try:
        # One Celery process at small scale: a smoke run on a small machine.
        with ReadSide(env, ctx.home / "read-side.log", concurrency=ctx.pick(small=1, full=2),
                      kicker_poll=kicker_poll) as side:
            if not wait_for_position(container.engine, container.store.head(), timeout=120):
                side.check()
                raise RuntimeError("the projections never caught up with the log")
            yield env, side
    finally:
        client = redis.Redis.from_url(ctx.broker_url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
