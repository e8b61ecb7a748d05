"""Support for the fault tests with real processes (issue 12): a throwaway `redis-server` on a
free port, an HTTP client that sees every answer (errors included), and a supervised
subprocess that can be SIGKILLed with its children and started again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from worker_runs.ports import free_port, wait_for_port


class RedisServer:
    """A throwaway redis-server on a free port (no persistence): stop it, start it again."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=10, interval=0.05, process=self.process, what="redis-server")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json", **(headers or {}),
        })
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = {k.lower(): v for k, v in response.headers.items()}
                return response.status, answer, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            answer = {k.lower(): v for k, v in error.headers.items()}
            return error.code, answer, json.loads(error.read() or b"null")


class Supervised:
    """A production process (`worker-runs api|relay|worker`) in its own process group, so a
    SIGKILL takes its children too (gunicorn or Celery prefork workers), as an OOM killer or
    a lost host would; `start` again is what a supervisor (systemd, Kubernetes) does."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], log: Path, ready: str | None = None,
    ) -> None:
        self.name, self.command, self.env, self.log_path = name, command, env, log
        self.log = log.open("ab")
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.ready_line = ready  # what the process logs once it is ready (None: unknown)
        self._started_at_byte = 0

    def start(self) -> None:
        self.log.flush()
        # Not self.log.tell(): the children append through their own descriptors.
        self._started_at_byte = self.log_path.stat().st_size
        self.process = subprocess.Popen(self.command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.alive, f"{self.name} was already dead:\n{self.output()}"
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        """Stop the whole group (TERM, then KILL), whatever state it is in."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # children left behind by the leader
            except ProcessLookupError:
                pass
            self.process.wait()
        self.log.close()

    def ready(self) -> bool:
        """Whether the process logged its ready line since its last start."""
        if self.ready_line is None:
            return False
        with self.log_path.open("rb") as log:
            log.seek(self._started_at_byte)
            return self.ready_line.encode() in log.read()

    def output(self, tail: int = 8000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-tail:]
