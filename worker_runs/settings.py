"""Settings from the environment (12-factor), read once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from environs import Env


@dataclass(frozen=True)
class Settings:
    #: WORKER_RUNS_HOME: where the embedded default keeps its files (default ./.worker-runs)
    home: Path
    #: WORKER_RUNS_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test;
    #: default: a SQLite file in `home`
    database_url: str
    #: WORKER_RUNS_BROKER_URL, e.g. redis://127.0.0.1:6379/0; unset: an embedded broker
    broker_url: str | None = None
    #: WORKER_RUNS_READ_WAIT: seconds a read waits for the projections to reach a position
    read_wait_seconds: float = 2.0

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read WORKER_RUNS_* variables; every invalid one is reported at once."""
    env = Env(eager=False)
    with env.prefixed("WORKER_RUNS_"):
        home = env.path("HOME", Path(".worker-runs"))
        database_url = env.str("DATABASE_URL", "")
        broker_url = env.str("BROKER_URL", "")
        read_wait = env.float("READ_WAIT", 2.0)
    env.seal()
    home = Path(home).resolve()
    return Settings(
        home=home,
        database_url=database_url or f"sqlite:///{home / 'worker-runs.db'}",
        broker_url=broker_url or None,
        read_wait_seconds=read_wait,
    )
