"""The read side as deployed, for the `lag` scenario: `worker-runs relay`, a Celery worker and
`worker-runs webhooks kicker`, each a child process in its own process group, on a broker
queue and key prefix of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any


class ReadSide:
    def __init__(self, env: dict[str, str], log: Path, *, concurrency: int = 2,
                 kicker_poll: float = 0.05) -> None:
        self.env = env
        self.log_path = log
        self.commands = [
            [sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool=prefork",
             f"--concurrency={concurrency}", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            [sys.executable, "-m", "worker_runs.cli", "relay"],
            [sys.executable, "-m", "worker_runs.cli", "webhooks", "kicker", "--poll", str(kicker_poll)],
        ]
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> ReadSide:
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
        # new session): SIGTERM is Celery's warm shutdown and the relay's clean stop.
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
