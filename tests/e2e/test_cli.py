"""The `worker-runs` command line: click's CliRunner on SQLite, plus the installed console
script in a subprocess against PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from domain.user import user_stream
from eventstore import Metadata, NewEvent, SqlEventStore, StreamAppend
from eventstore.engine import make_engine
from tests.conftest import PG_URL, PostgresSchema
from worker_runs.cli import main


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # Settings come from the environment: point the embedded default at a fresh home, and
    # make sure no developer's WORKER_RUNS_DATABASE_URL leaks in.
    monkeypatch.delenv("WORKER_RUNS_DATABASE_URL", raising=False)
    monkeypatch.setenv("WORKER_RUNS_HOME", str(home))
    return CliRunner()


def invoke(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(main, list(args), catch_exceptions=True)


def ok(cli: CliRunner, *args: str) -> Result:
    result = invoke(cli, *args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def store_at(home: Path) -> SqlEventStore:
    return SqlEventStore(make_engine(f"sqlite:///{home / 'worker-runs.db'}"))


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group under `group`, as argv prefixes (found, not listed by hand, so
    commands added later are covered too)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))


def test_help_of_every_command(cli: CliRunner, home: Path) -> None:
    paths = [(), *command_paths(main)]
    assert {("db", "upgrade"), ("users", "create"), ("events", "tail")} <= set(paths)
    for path in paths:
        for flag in ("--help", "-h"):
            result = ok(cli, *path, flag)
            assert result.output.startswith("Usage: "), path
            assert " ".join(("main", *path)) in result.output.splitlines()[0] or path == (), path
    # --help never needs a database: nothing was created.
    assert not (home / "worker-runs.db").exists()


def test_users_create_prints_the_token_alone_on_the_last_line(cli: CliRunner, home: Path) -> None:
    result = ok(cli, "users", "create", "alice", "--email", "a@x")

    lines = result.output.splitlines()
    token = lines[-1]
    assert re.fullmatch(r"[0-9a-f]{40}", token), result.output
    assert "alice" in lines[0]

    store = store_at(home)
    registered, issued = store.read_all(0)
    assert registered.event_type == "UserRegistered"
    assert registered.payload["username"] == "alice" and registered.payload["email"] == "a@x"
    assert registered.payload["is_admin"] is False
    assert issued.event_type == "TokenIssued"
    # Only the hash is stored, and the clear token appears nowhere in the database file.
    assert issued.payload["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert store.resolve(f"token:{issued.payload['token_hash']}") == registered.stream_id
    assert token.encode() not in (home / "worker-runs.db").read_bytes()
    store.engine.dispose()

    admin = ok(cli, "users", "create", "root", "--admin")
    assert re.fullmatch(r"[0-9a-f]{40}", admin.output.splitlines()[-1])
    assert admin.output.splitlines()[-1] != token


def test_duplicate_username_is_a_clear_error(cli: CliRunner) -> None:
    ok(cli, "users", "create", "alice")

    result = invoke(cli, "users", "create", "Alice")

    assert result.exit_code != 0
    assert "username is taken" in result.output
    assert "Traceback" not in result.output
    # A clean exit (click's SystemExit), not an escaped exception.
    assert isinstance(result.exception, SystemExit)


def test_events_tail_prints_json_lines(cli: CliRunner) -> None:
    ok(cli, "users", "create", "alice")
    ok(cli, "users", "create", "bob")

    everything = [json.loads(line) for line in ok(cli, "events", "tail").output.splitlines()]
    assert [e["position"] for e in everything] == [1, 2, 3, 4]
    assert [e["type"] for e in everything] == ["UserRegistered", "TokenIssued"] * 2

    after = [json.loads(line) for line in ok(cli, "events", "tail", "--after", "2").output.splitlines()]
    assert after == everything[2:]
    assert after[0]["data"]["username"] == "bob"
    assert after[0]["actor"] == {"type": "system", "id": "system"}

    limited = ok(cli, "events", "tail", "--after", "1", "--limit", "2").output.splitlines()
    assert [json.loads(line)["position"] for line in limited] == [2, 3]
    assert ok(cli, "events", "tail", "--after", "4").output == ""
    assert invoke(cli, "events", "tail", "--after", "-1").exit_code == 2  # a usage error


def test_db_upgrade_twice(cli: CliRunner, home: Path) -> None:
    first = ok(cli, "db", "upgrade")
    second = ok(cli, "db", "upgrade")
    assert "up to date" in first.output and "up to date" in second.output
    assert (home / "worker-runs.db").exists()


# --- the installed console script, on PostgreSQL ------------------------------------------------


def console_script() -> str:
    # The venv's own script (next to this interpreter), else whatever is on PATH.
    candidate = Path(sys.executable).parent / "worker-runs"
    found = str(candidate) if candidate.exists() else shutil.which("worker-runs")
    assert found, "the worker-runs console script is not installed"
    return found


@pytest.mark.postgres
def test_console_script_against_postgres(pg_schema: PostgresSchema, tmp_path: Path) -> None:
    # psycopg 3 takes libpq options from the URL query: `options=-csearch_path=<schema>`,
    # with the `=` percent-encoded so the URL parser keeps it in the value.
    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema.name}"
    env = {**os.environ, "WORKER_RUNS_HOME": str(tmp_path / "home"), "WORKER_RUNS_DATABASE_URL": url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([console_script(), *args], env=env, capture_output=True, text=True, timeout=120)

    for _ in range(2):
        upgraded = run("db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
    created = run("users", "create", "carol", "--email", "c@x")
    assert created.returncode == 0, created.stderr
    token = created.stdout.splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    duplicate = run("users", "create", "carol")
    assert duplicate.returncode == 1
    assert "username is taken" in duplicate.stderr and "Traceback" not in duplicate.stderr
    tail = run("events", "tail")
    tail_types = [json.loads(line)["type"] for line in tail.stdout.splitlines()]
    assert tail_types == ["UserRegistered", "TokenIssued"]

    # It all went to the test schema (not `public`), and nothing to a SQLite file.
    engine = pg_schema.engine()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == 2
        schema_of_events = conn.execute(sa.text(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'events'"
            " AND table_schema = :s"), {"s": pg_schema.name}).scalar_one()
    engine.dispose()
    assert schema_of_events == pg_schema.name
    assert not (tmp_path / "home" / "worker-runs.db").exists()


@pytest.mark.parametrize("variable, value, expected", [
    ("WORKER_RUNS_READ_WAIT", "-1", "WORKER_RUNS_READ_WAIT"),
    ("WORKER_RUNS_SSE_AUTH_RECHECK", "0", "WORKER_RUNS_SSE_AUTH_RECHECK"),
    ("WORKER_RUNS_WEBHOOK_MAX_ATTEMPTS", "many", "WORKER_RUNS_WEBHOOK_MAX_ATTEMPTS"),
    ("WORKER_RUNS_DATABASE_URL", "nosuchdb://x", "Invalid WORKER_RUNS_DATABASE_URL"),
    # Nothing listens on port 1: the database is unreachable.
    ("WORKER_RUNS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x", "Cannot use the database"),
])
def test_bad_configuration_is_one_clear_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    result = invoke(cli, "db", "upgrade")
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a crash


def test_an_event_this_version_cannot_read_is_one_clear_line_not_a_traceback(
    cli: CliRunner, home: Path,
) -> None:
    """A newer version wrote an event type this one does not know onto alice's stream: changing
    her password (which replays that stream) says what is wrong and how to fix it, exit 1."""
    created = ok(cli, "users", "create", "alice").output
    user_id = re.search(r"\(([0-9a-f-]{36})\)", created).group(1)  # type: ignore[union-attr]
    store = store_at(home)
    stream = user_stream(user_id)
    store.append(
        [StreamAppend(stream, len(store.read_stream(stream)), [NewEvent("TokenRenamedInTheFuture", {})])],
        metadata=Metadata("user", user_id, "c", "c", datetime.now(UTC)),
    )
    result = cli.invoke(main, ["users", "set-password", "alice", "--password-stdin"],
                        input="a long enough password\n")
    assert result.exit_code == 1, result.output
    assert "cannot read an event it has stored" in result.output
    assert "TokenRenamedInTheFuture" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
