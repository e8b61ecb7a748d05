"""The wheel holds every package and the migration files.

setuptools' flat-layout discovery silently drops a top-level package named `tasks`, and
package data (Alembic's env.py, script.py.mako, versions/) is easy to lose: an installed
`worker-runs db upgrade` would then fail far from the cause. Build a real wheel and look.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["domain", "commands", "projections", "api", "tasks", "eventstore", "integrations", "worker_runs"]
#: never copied into the build tree: local state, caches and earlier build output
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
    ".ruff_cache", ".worker-runs", "test-artifacts", "node_modules", ".worker-runs-test-cache",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources, and a
    # stale build/lib in the working tree could hide a missing file.
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (path,) = (work / "dist").glob("worker_runs-*.whl")
    return zipfile.ZipFile(path)


@pytest.mark.slow
def test_wheel_contains_every_package(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names, package
        # Every module of the package, sub-packages included, not only its __init__.
        for module in (ROOT / package).rglob("*.py"):
            relative = module.relative_to(ROOT).as_posix()
            if "__pycache__" not in relative:
                assert relative in names, relative
    assert not any(name.startswith("tests/") for name in names)


@pytest.mark.slow
def test_wheel_contains_the_migrations(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    migrations = ROOT / "eventstore" / "migrations"
    expected = {p.relative_to(ROOT).as_posix() for p in migrations.rglob("*") if p.suffix in {".py", ".mako"}
                and "__pycache__" not in p.parts}
    assert {"eventstore/migrations/env.py", "eventstore/migrations/script.py.mako",
            "eventstore/migrations/versions/0001_event_store.py"} <= expected
    assert expected <= names, expected - names


@pytest.mark.slow
def test_wheel_declares_the_console_script(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]" in text
    assert "worker-runs = worker_runs.cli:main" in text


@pytest.mark.slow
def test_wheel_contains_the_web_ui_assets(wheel: zipfile.ZipFile) -> None:
    # The UI's templates and static files are package data, not modules: without the
    # package-data entry an installed `worker-runs serve` would answer 500 for every page.
    names = set(wheel.namelist())
    ui = ROOT / "api" / "ui"
    expected = {p.relative_to(ROOT).as_posix() for folder in ("templates", "static")
                for p in (ui / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert {"api/ui/templates/runs_page.html", "api/ui/static/htmx.min.js", "api/ui/static/app.js",
            "api/ui/static/app.css"} <= expected
    assert expected <= names, expected - names
