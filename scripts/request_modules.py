"""How many of our modules one request runs through (issue 13's "files touched by one request").

Serves one `POST /api/v1/process/workers/` (create a user worker run) in-process on the embedded
default (SQLite in a temporary folder, projections caught up by a thread as the relay would) and
lists the project source files whose code ran in the request's thread, by package.

    .venv/bin/python scripts/request_modules.py [--list]
"""

from __future__ import annotations

import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

import falcon.testing

from api.app import create_app
from commands.messages import IssueToken, RegisterUser
from commands.tokens import generate_token, hash_token
from eventstore.engine import make_engine
from eventstore.migrate import upgrade
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner
from worker_runs.bootstrap import bootstrap
from worker_runs.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _project_file(filename: str) -> str | None:
    path = Path(filename)
    if not path.is_absolute() or ".venv" in path.parts:
        return None
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return None


def main() -> None:
    home = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{home / 'events.db'}")
    upgrade(engine)
    container = bootstrap(Settings(home=home, database_url=str(engine.url)), engine=engine)
    user_id = container.bus.handle(RegisterUser("alice", "alice@example.org", False)).data["user_id"]
    token = generate_token()
    container.bus.handle(IssueToken(user_id=user_id, token_hash=hash_token(token), label="trace"))
    runner = ProjectionRunner(engine, PROJECTIONS)
    stop = threading.Event()

    def project() -> None:
        while not stop.is_set():
            for name in PROJECTIONS:
                runner.catch_up(name)
            stop.wait(0.002)

    threading.Thread(target=project, daemon=True).start()
    client = falcon.testing.TestClient(create_app(container))
    headers = {"Authorization": f"Token {token}"}
    worker = client.simulate_post("/api/v1/workers/", json={"name": "OCR", "slug": "ocr", "type": "ocr"},
                                  headers=headers).json
    version = client.simulate_post(f"/api/v1/workers/{worker['id']}/versions/", json={}, headers=headers).json

    seen: Counter[str] = Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = _project_file(frame.f_code.co_filename)
            if name:
                seen[name] += 1

    sys.setprofile(tracer)
    result = client.simulate_post("/api/v1/process/workers/", json={"worker_version_id": version["id"]},
                                  headers=headers)
    sys.setprofile(None)
    stop.set()
    assert result.status_code == 201, result.text
    packages = Counter(name.split("/")[0] for name in seen)
    print(f"POST /api/v1/process/workers/ ran {len(seen)} project files:",
          ", ".join(f"{pkg} {n}" for pkg, n in sorted(packages.items())))
    if "--list" in sys.argv:
        for name in sorted(seen):
            print(f"  {name} ({seen[name]} calls)")


if __name__ == "__main__":
    main()
