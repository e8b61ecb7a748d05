"""The embedded default needs no `postgres` extra: `pip install -e .` then `worker-runs serve`
(README). psycopg is imported only where a PostgreSQL engine is in use; here it is made
unimportable in a child process, which then registers a user, serves the API on SQLite and
answers an authenticated request through the real `serve` entry point's app."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent('''
    import sys

    class NoPsycopg:
        """An interpreter without the `postgres` extra installed."""
        def find_spec(self, name, path=None, target=None):
            if name == "psycopg" or name.startswith(("psycopg.", "psycopg_")):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, NoPsycopg())

    import falcon.testing
    from api.app import create_app
    from commands.messages import IssueToken, RegisterUser
    from commands.tokens import generate_token, hash_token
    from eventstore.engine import make_engine
    from eventstore.migrate import upgrade
    from worker_runs import cli, serve  # noqa: F401 - the entry points import cleanly
    from worker_runs.bootstrap import bootstrap
    from worker_runs.settings import Settings
    from pathlib import Path

    home = Path(sys.argv[1])
    url = f"sqlite:///{home / 'worker-runs.db'}"
    engine = make_engine(url)
    upgrade(engine)
    container = bootstrap(Settings(home=home, database_url=url), engine=engine)
    user_id = container.bus.handle(RegisterUser("alice")).data["user_id"]
    token = generate_token()
    container.bus.handle(IssueToken(user_id=user_id, token_hash=hash_token(token)))
    client = falcon.testing.TestClient(create_app(container))
    answer = client.simulate_post("/api/v1/workers/", json={"name": "OCR", "slug": "ocr", "type": "ocr"},
                                  headers={"Authorization": f"Token {token}"})
    assert answer.status_code == 201, answer.text
    assert "psycopg" not in sys.modules
    print("ok")
''')


def test_the_embedded_default_runs_without_psycopg(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
