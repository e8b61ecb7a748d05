"""`worker-runs serve`: the HTTP API, the relay and a real Celery worker in one command.

Embedded default (no service installed): SQLite under WORKER_RUNS_HOME and a
Redis-compatible broker served in-process by fakeredis on a free port. With
WORKER_RUNS_DATABASE_URL and WORKER_RUNS_BROKER_URL the same command uses PostgreSQL and Redis.

Processes: this one (HTTP server threads, the relay thread, the embedded broker) and one
child, `worker-runs worker`, started in its own session so a terminal's Ctrl-C reaches only
us and we stop it in order (SIGTERM = Celery's warm shutdown). The child also exits when its
standard input (a pipe from us) closes, so even a SIGKILL of this process leaves no orphan.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from eventstore.migrate import upgrade
from eventstore.outage import is_db_unavailable
from worker_runs import health
from worker_runs.bootstrap import Container, bootstrap
from worker_runs.http_server import DEFAULT_THREADS, HttpServer
from worker_runs.ports import free_port
from worker_runs.settings import Settings, load_settings

log = logging.getLogger(__name__)

#: how long the Celery child gets for its warm shutdown before it is killed
WORKER_STOP_TIMEOUT = 30.0
#: this many starts within a minute is a crash loop: restarts then back off, up to the max
CRASH_LOOP_STARTS = 5
WORKER_BACKOFF_MAX = 60.0
#: a worker alive this long is healthy again
WORKER_STABLE_AFTER = 30.0


class ApiUnavailable(RuntimeError):
    """The WSGI application factory could not be imported."""


def load_app_factory(spec: str) -> Callable[[Container], Any]:
    module_name, _, attribute = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute or "create_app")
    except (ImportError, AttributeError) as exc:
        raise ApiUnavailable(
            f"The HTTP API could not be loaded from {spec!r} ({type(exc).__name__}: {exc}). "
            "Is the api package installed? Use --app MODULE:FACTORY to serve another WSGI factory."
        ) from exc


def _fake_redis_server(host: str) -> Any:
    from fakeredis import TcpFakeServer

    class NoDelayFakeServer(TcpFakeServer):
        def get_request(self) -> tuple[socket.socket, Any]:
            # Redis itself sets TCP_NODELAY. Without it, the small replies written one by one
            # meet the client's delayed ACK and every round trip costs ~40 ms (measured: a
            # Celery task took ~90 ms from publish to start instead of ~1 ms).
            connection, address = super().get_request()
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection, address

    return NoDelayFakeServer((host, free_port(host)), server_type="redis")


class EmbeddedBroker:
    """A Redis-compatible broker in this process (fakeredis[lua]: kombu needs EVALSHA)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = _fake_redis_server(host)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"redis://{host}:{port}/0"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="embedded-broker", daemon=True,
        )

    def start(self) -> str:
        self._thread.start()
        self._preload_scripts()
        return self.url

    def _preload_scripts(self) -> None:
        """Load the Lua scripts kombu runs with EVALSHA before any client needs them.

        fakeredis' TCP server closes the connection after *any* error reply, including the
        NOSCRIPT that a first EVALSHA gets (redis-py then loads the script and retries, on a
        connection that is now gone): the Celery consumer would reconnect in a loop. With
        the scripts cached up front, EVALSHA never fails.
        """
        import redis
        from kombu.transport import redis as kombu_redis

        scripts = [redis.lock.Lock.LUA_RELEASE_SCRIPT, redis.lock.Lock.LUA_EXTEND_SCRIPT,
                   redis.lock.Lock.LUA_REACQUIRE_SCRIPT]
        scripts += [getattr(kombu_redis, name) for name in ("REFRESH_BINDING", "SWEEP_BINDINGS")
                    if hasattr(kombu_redis, name)]
        client = redis.Redis.from_url(self.url)
        try:
            for script in scripts:
                client.script_load(script)
        finally:
            client.close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class WorkerProcess:
    """The Celery worker child: started, watched (restarted if it dies), stopped in order."""

    def __init__(self, settings: Settings, concurrency: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.concurrency = concurrency
        #: tests pass a fake one to step over the back-off
        self.clock = clock
        self.process: subprocess.Popen[bytes] | None = None
        self._starts: list[float] = []
        self._started_at: float | None = None
        self.command = [sys.executable, "-m", "worker_runs.cli", "worker", "--pool=threads",
                        f"--concurrency={concurrency}", "--stop-with-parent"]
        #: when a crash-looping worker is started again (None: not waiting)
        self._restart_at: float | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "WORKER_RUNS_HOME": str(self.settings.home),
            "WORKER_RUNS_DATABASE_URL": self.settings.database_url,
            "WORKER_RUNS_BROKER_URL": self.settings.broker_url or "",
            "WORKER_RUNS_CELERY_QUEUE": self.settings.celery_queue,
            "WORKER_RUNS_BROKER_PREFIX": self.settings.broker_prefix,
        })
        return env

    def start(self) -> None:
        now = self.clock()
        self._starts = [t for t in self._starts if now - t < 60] + [now]
        self.process = subprocess.Popen(
            self.command, env=self._env(), stdin=subprocess.PIPE, start_new_session=True,
        )
        self._started_at = now
        log.info("serve: Celery worker started (pid %s)", self.process.pid)

    def check(self) -> None:
        """Restart a dead worker. One that keeps dying is restarted with a growing back-off
        (never given up: the API keeps serving) and reported to /readyz meanwhile."""
        now = self.clock()
        if self.process is None:
            if self._restart_at is not None and now >= self._restart_at:
                self._restart_at = None
                self.start()
            return
        if self.process.poll() is None:
            if self._started_at is not None and now - self._started_at > WORKER_STABLE_AFTER:
                health.report("celery-worker", None)
            return
        log.error("serve: the Celery worker exited with %s; restarting it", self.process.returncode)
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process = None
        recent = len([t for t in self._starts if now - t < 60])
        if recent < CRASH_LOOP_STARTS:
            self.start()
            return
        delay = min(WORKER_BACKOFF_MAX, 2.0 ** (recent - CRASH_LOOP_STARTS + 1))
        self._restart_at = now + delay
        health.report("celery-worker",
                      f"crash-looping ({recent} starts in a minute); next start in {delay:.0f}s")
        log.error("serve: the Celery worker keeps dying; next start in %.0fs (the API keeps serving)", delay)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("serve: the Celery worker did not stop in %ss; killing it", WORKER_STOP_TIMEOUT)
            process.kill()
            process.wait()
        if process.stdin is not None:
            process.stdin.close()
        log.info("serve: Celery worker stopped (exit code %s)", process.returncode)


class Server:
    def __init__(self, host: str, port: int, app_spec: str, settings: Settings | None = None,
                 threads: int = DEFAULT_THREADS) -> None:
        self.host = host
        self.port = port
        self.threads = threads
        # Fail fast, before anything starts, when the API cannot be imported.
        self.factory = load_app_factory(app_spec)
        self.settings = settings or load_settings()
        if "WORKER_RUNS_SSE_MAX_STREAMS" not in os.environ:
            # Live streams hold a server thread each: by default they may take half of them,
            # the other half always serves requests (as `worker-runs api` does).
            self.settings = dataclasses.replace(self.settings, sse_max_streams=max(1, threads // 2))
        self.stop_event = threading.Event()

    def _signal(self, signum: int, _frame: Any) -> None:
        log.info("serve: %s received, stopping", signal.Signals(signum).name)
        self.stop_event.set()

    def _migrate(self, container: Container) -> bool:
        """Apply the migrations, waiting (with a back-off) for a database that is not up yet:
        serve started alongside PostgreSQL must not exit because it came up first. False when
        stopped while waiting."""
        delay = 0.5
        while True:
            try:
                upgrade(container.engine)
                return True
            except sa.exc.SQLAlchemyError as exc:
                if not is_db_unavailable(exc):
                    raise
                log.warning("serve: the database is unavailable (%s); retrying in %.1fs",
                            type(exc).__name__, delay)
            if self.stop_event.wait(delay):
                return False
            delay = min(delay * 2, 10.0)

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._signal)
        broker = None
        settings = self.settings
        if settings.broker_url is None:
            broker = EmbeddedBroker()
            settings = dataclasses.replace(settings, broker_url=broker.start())
            log.info("serve: embedded broker at %s", settings.broker_url)
        container = bootstrap(settings)
        worker = WorkerProcess(settings, concurrency=max(len(container.runner.names), 1))
        threads: list[threading.Thread] = []
        httpd = None
        exit_code = 0
        try:
            if not self._migrate(container):
                return 0  # stopped while waiting for the database
            worker.start()
            # The relay also announces subscriptions with due webhooks (issue 7), under its lock.
            relay = container.relay()
            # The loops survive database and broker outages themselves; should one still die,
            # it is started again: the API never goes down with it.
            loops: dict[str, Callable[[threading.Event], None]] = {
                "relay": relay.run,
            }
            for name, target in loops.items():
                threads.append(threading.Thread(target=target, args=(self.stop_event,), name=name))
            httpd = HttpServer(self.factory(container), self.host, self.port, threads=self.threads)
            threads.append(threading.Thread(target=httpd.serve_until, args=(self.stop_event,), name="http"))
            for thread in threads:
                thread.start()
            host, port = httpd.address
            database = container.engine.url.render_as_string()  # password hidden
            print(f"worker-runs serving on http://{host}:{port} (database {database}, "
                  f"broker {settings.broker_url})", flush=True)
            while not self.stop_event.wait(0.5):
                worker.check()
                for index, thread in enumerate(threads):
                    if thread.is_alive() or self.stop_event.is_set():
                        continue
                    if thread.name not in loops:
                        log.error("serve: the %s thread stopped unexpectedly; shutting down", thread.name)
                        exit_code = 1
                        break
                    log.error("serve: the %s loop stopped unexpectedly; starting it again", thread.name)
                    threads[index] = threading.Thread(target=loops[thread.name], args=(self.stop_event,),
                                                      name=thread.name)
                    threads[index].start()
                if exit_code:
                    break
        finally:
            self.stop_event.set()
            # The http thread sees the stop and closes its sockets itself; one never started
            # still holds its listening socket.
            if httpd is not None and not any(t.name == "http" and t.ident is not None for t in threads):
                httpd.close()
            worker.stop()
            for thread in threads:
                thread.join(timeout=10)
            if broker is not None:
                broker.stop()
            container.engine.dispose()
        log.info("serve: stopped")
        return exit_code
