"""`worker-runs projections status|rebuild|parked|retry`, and the clear errors of relay/worker/serve."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from domain.local_process import local_process_stream
from integrations.all_projections import ALL_PROJECTIONS
from projections.runner import ProjectionRunner, RetryPolicy
from tests.broker import database_url
from tests.projection_workload import BrokenFor, Workload, snapshot
from worker_runs.bootstrap import Container
from worker_runs.cli import main

#: every projection the runner drives: the read models and the subject and visibility index
NAMES = sorted(ALL_PROJECTIONS)


@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WORKER_RUNS_DATABASE_URL", database_url(container.engine))
    monkeypatch.setenv("WORKER_RUNS_HOME", str(container.settings.home))
    monkeypatch.delenv("WORKER_RUNS_BROKER_URL", raising=False)
    return CliRunner()


def test_status_reports_checkpoint_head_and_lag(container: Container, cli: CliRunner) -> None:
    w = Workload(container.bus, seed=1)
    for _ in range(30):
        w.random_command()
    ProjectionRunner(container.engine, batch_size=10).run_batch("catalog")
    result = cli.invoke(main, ["projections", "status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    head = container.store.head()
    by_name = {p["name"]: p for p in data["projections"]}
    assert set(by_name) == set(NAMES)
    assert by_name["catalog"]["checkpoint"] == 10 and by_name["catalog"]["lag_events"] == head - 10
    assert by_name["catalog"]["lag_seconds"] >= 0 and by_name["catalog"]["head"] == head
    assert by_name["user_runs"]["checkpoint"] == 0 and by_name["user_runs"]["live_generation"] == 1
    table = cli.invoke(main, ["projections", "status"])
    assert table.exit_code == 0 and "catalog" in table.output and str(head) in table.output


def test_rebuild_one_and_all(container: Container, cli: CliRunner) -> None:
    w = Workload(container.bus, seed=2)
    for _ in range(40):
        w.random_command()
    for name in NAMES:
        container.runner.catch_up(name)
    before = snapshot(container.engine, "catalog")
    result = cli.invoke(main, ["projections", "rebuild", "catalog", "--batch-size", "7"])
    assert result.exit_code == 0, result.output
    assert "catalog: generation 2 is live" in result.output
    assert snapshot(container.engine, "catalog") == before
    result = cli.invoke(main, ["projections", "rebuild", "--all"])
    assert result.exit_code == 0, result.output
    assert "catalog: generation 3 is live" in result.output
    assert "user_runs: generation 2 is live" in result.output


def test_rebuild_argument_errors(cli: CliRunner) -> None:
    assert cli.invoke(main, ["projections", "rebuild"]).exit_code == 2
    assert cli.invoke(main, ["projections", "rebuild", "catalog", "--all"]).exit_code == 2
    result = cli.invoke(main, ["projections", "rebuild", "nope"])
    assert result.exit_code == 2 and "no projection named 'nope'" in result.output


def test_parked_and_retry(container: Container, cli: CliRunner) -> None:
    w = Workload(container.bus, seed=3)
    alice = w.user()
    w.worker(alice)
    broken = BrokenFor(local_process_stream(alice.user_id))
    runner = ProjectionRunner(container.engine, {"user_runs": broken.projection},
                              policy=RetryPolicy(max_attempts=1))
    _, first = w.run(alice)
    _, second = w.run(alice)
    runner.catch_up("user_runs")

    assert cli.invoke(main, ["projections", "parked"]).exit_code == 0
    result = cli.invoke(main, ["projections", "parked", "user_runs", "--json"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["global_position"], r["held_behind"]) for r in rows] == [(first, None), (second, first)]
    assert "ProjectorBug" in rows[0]["error"]

    assert cli.invoke(main, ["projections", "retry", "--position", str(first)]).exit_code == 2
    result = cli.invoke(main, ["projections", "retry", "user_runs", "--position", str(second)])
    assert result.exit_code == 1 and "held behind" in result.output
    # The CLI runs the real (working) projector: both replay, in order.
    result = cli.invoke(main, ["projections", "retry", "user_runs"])
    assert result.exit_code == 0 and "replayed 2, still parked 0" in result.output
    assert cli.invoke(main, ["projections", "parked"]).output.strip() == "No parked events."
    assert len(snapshot(container.engine, "user_runs")["rm_user_runs"]) == 2


@pytest.mark.parametrize("command", [["relay"], ["worker"]])
def test_relay_and_worker_need_a_broker(cli: CliRunner, command: list[str]) -> None:
    result = cli.invoke(main, command)
    assert result.exit_code == 1 and "WORKER_RUNS_BROKER_URL is not set" in result.output


def test_serve_says_clearly_when_the_api_cannot_be_loaded(cli: CliRunner) -> None:
    result = cli.invoke(main, ["serve", "--app", "no_such_module:create_app", "--port", "0"])
    assert result.exit_code == 1
    assert "The HTTP API could not be loaded from 'no_such_module:create_app'" in result.output
