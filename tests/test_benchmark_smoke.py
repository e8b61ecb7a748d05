"""benchmarks/append_rate.py still runs (tiny sizes): a benchmark nobody can run measures nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, require_postgres

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "append_rate.py"


def test_benchmark_help() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--writers" in result.stdout and "--commands" in result.stdout


@pytest.mark.postgres
def test_benchmark_runs_and_drops_its_schema() -> None:
    require_postgres()
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", PG_URL, "--commands", "8", "--transactions", "8",
         "--writers", "1,2"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "raw append, 100 event(s)/txn" in result.stdout
    assert "gap-free check" in result.stdout and ": ok" in result.stdout
    schema = next(word for word in result.stdout.split() if word.startswith("bench_")).rstrip(",")
    engine = sa.create_engine(PG_URL)
    with engine.connect() as conn:
        left = conn.execute(
            sa.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"), {"s": schema},
        ).scalar_one()
    engine.dispose()
    assert left == 0
