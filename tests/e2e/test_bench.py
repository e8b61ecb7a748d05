"""`worker-runs bench --scale small` runs each scenario to the end and prints positive figures,
their baselines and ratios (issue 11). No timing assertion: only that a benchmark nobody can run
does not rot."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from click.testing import CliRunner

from tests.broker import REDIS_URL
from tests.conftest import PG_URL, require_postgres
from tests.waiting import wait_until
from worker_runs.bench import EMBEDDED_ONLY, SCENARIOS
from worker_runs.bench.baselines import EventsourcingRecorder
from worker_runs.bench.report import Baseline, Figure, render_table
from worker_runs.bench.runner import BenchContext, Unavailable, interleave, run_writers
from worker_runs.cli import main

ROW = re.compile(r"^\| (?P<scenario>\w+) \| (?P<case>[^|]+) \| (?P<unit>[^|]+) \| (?P<ours>[\d,.]+) \| "
                 r"(?P<baseline>[^|]+) \| (?P<value>[^|]+) \| (?P<ratio>[^|]+) \|$")


def _bench_databases() -> set[str]:
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text(
                "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'")).scalars())
    finally:
        engine.dispose()


#: scenarios that also run the read side as deployed, on the Redis of the tests
WITH_REDIS = {"lag"}


def require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.postgres
@pytest.mark.parametrize("scenario", [
    pytest.param(name, marks=[pytest.mark.redis] if name in WITH_REDIS else []) for name in sorted(SCENARIOS)
])
def test_each_scenario_prints_figures_baselines_and_ratios(scenario: str, tmp_path: Path) -> None:
    if scenario not in EMBEDDED_ONLY:
        require_postgres()
    if scenario in WITH_REDIS:
        require_redis()
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        main, ["bench", scenario, "--scale", "small", "--repetitions", "1", "--database-url", PG_URL,
               "--broker-url", REDIS_URL, "--json", str(out)],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "CPUs" in result.output and "SQLite" in result.output and "Python" in result.output
    rows = [m.groupdict() for line in result.output.splitlines() if (m := ROW.match(line))]
    assert rows and all(row["scenario"] == scenario for row in rows)
    for row in rows:
        assert float(row["ours"].replace(",", "")) > 0, row
    # Every figure has a baseline measured in the same run and its ratio (a memory growth
    # baseline may round to zero: its ratio is then "n/a", but not every one).
    ratios = [float(row["ratio"]) for row in rows if row["ratio"] != "n/a"]
    assert ratios and all(r > 0 for r in ratios)
    document = json.loads(out.read_text())
    assert document["environment"]["cpus"] >= 1
    assert {f["scenario"] for f in document["figures"]} == {scenario}
    for figure in document["figures"]:
        assert figure["ours"] > 0 and figure["baselines"]
        assert any(r is not None and r > 0 for r in figure["ratios"].values()), figure
    # The run's own database is gone: nothing is left behind on the server.
    if scenario not in EMBEDDED_ONLY:
        used = re.search(r"database (bench_\w+) was created for \w+ and dropped", result.output)
        assert used is not None, result.output
        assert used.group(1) not in _bench_databases()


def test_interleave_alternates_cases_and_keeps_medians_and_reasons() -> None:
    order: list[str] = []
    values = {"a": iter([3.0, 1.0, 2.0]), "b": iter([10.0, 30.0, 20.0])}

    def case(name: str) -> Callable[[], float]:
        def sample() -> float:
            order.append(name)
            return next(values[name])
        return sample

    def missing() -> float:
        order.append("c")
        raise Unavailable("unavailable: not installed")

    got = interleave(3, {"a": case("a"), "b": case("b"), "c": missing})
    # Each repetition starts with another case; an unavailable one is tried once.
    assert order == ["a", "b", "c", "b", "a", "a", "b"]
    assert got["a"] == 2.0 and got["b"] == 20.0
    assert got.baseline("c", "C") == Baseline("C", None, "unavailable: not installed")
    figure = Figure("s", "case", "ops/s", 5.0, [got.baseline("b"), got.baseline("c")])
    assert figure.ratio(figure.baselines[0]) == 0.25 and figure.ratio(figure.baselines[1]) is None
    assert "unavailable: not installed" in render_table([figure])


def test_without_pyeventsourcing_its_baseline_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail, as on an install without the `bench` extra.
    monkeypatch.setitem(sys.modules, "eventsourcing.postgres", None)
    ctx = BenchContext(scale="small", repetitions=1, database_url=None)
    try:
        recorder = EventsourcingRecorder(ctx, pool_size=1)
        got = interleave(1, {"eventsourcing": lambda: run_writers(1, 1, lambda w, i: recorder.insert_one())})
        recorder.close()
    finally:
        ctx.close()
    baseline = got.baseline("eventsourcing")
    assert baseline.value is None
    assert "not installed" in baseline.reason and "worker-runs[bench]" in baseline.reason


def test_the_bench_imports_its_optional_packages_lazily() -> None:
    # psycopg is the `postgres` extra and eventsourcing the `bench` one: `worker-runs` imports
    # this package on every command, so neither may be imported at the top of its modules.
    package = Path(__file__).resolve().parents[2] / "worker_runs" / "bench"
    for module in package.glob("*.py"):
        for node in ast.parse(module.read_text()).body:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in {"psycopg", "eventsourcing"}, (module.name, name)


def test_the_sqlite_scenario_runs_without_eventsourcing(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['eventsourcing'] = None\n"
        "from worker_runs.cli import main\n"
        "main(['bench', 'sqlite', '--repetitions', '1'])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| sqlite | RegisterUser through the bus on SQLite" in result.stdout


def test_an_unknown_scenario_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["bench", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_a_sqlite_url_is_refused_for_postgresql_scenarios() -> None:
    pg_only = sorted(set(SCENARIOS) - EMBEDDED_ONLY)[0]
    result = CliRunner().invoke(main, ["bench", pg_only, "--database-url", "sqlite:///x.db"])
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output


def test_a_terminated_bench_still_drops_its_database() -> None:
    """`kill` (SIGTERM) mid-scenario unwinds like Ctrl-C: no bench_* database is left behind."""
    require_postgres()
    before = _bench_databases()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from worker_runs.cli import main; main()",
         "bench", "history", "--scale", "full", "--database-url", PG_URL],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        # Its database exists once the scenario runs (the full history scenario runs for minutes).
        assert wait_until(lambda: bool(_bench_databases() - before), timeout=60)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert _bench_databases() - before == set()
