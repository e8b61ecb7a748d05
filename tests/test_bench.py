"""`worker-runs bench --scale small` runs each scenario to the end and prints positive figures,
their baselines and ratios (issue 11). No timing assertion: only that a benchmark nobody can run
does not rot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import PG_URL, require_postgres
from worker_runs.bench import EMBEDDED_ONLY, SCENARIOS
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


@pytest.mark.postgres
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_scenario_prints_figures_baselines_and_ratios(scenario: str, tmp_path: Path) -> None:
    if scenario not in EMBEDDED_ONLY:
        require_postgres()
    before = _bench_databases()
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        main, ["bench", scenario, "--scale", "small", "--repetitions", "2", "--database-url", PG_URL,
               "--json", str(out)],
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
    assert _bench_databases() <= before


def test_an_unknown_scenario_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["bench", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_a_sqlite_url_is_refused_for_postgresql_scenarios() -> None:
    pg_only = sorted(set(SCENARIOS) - EMBEDDED_ONLY)[0]
    result = CliRunner().invoke(main, ["bench", pg_only, "--database-url", "sqlite:///x.db"])
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output
