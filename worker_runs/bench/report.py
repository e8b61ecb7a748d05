"""What a bench run prints and writes: one figure per case, each with its baselines from the
same run, and the environment the numbers came from."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click


@dataclass(frozen=True)
class Baseline:
    name: str
    #: None: the baseline could not be measured here (see `reason`)
    value: float | None
    reason: str = ""


@dataclass(frozen=True)
class Figure:
    scenario: str
    case: str
    #: the unit of `ours` and of every baseline, e.g. "cmd/s", "ms p99"
    unit: str
    ours: float
    baselines: list[Baseline] = field(default_factory=list)
    #: what else the case measured (peak memory, conflicts, sample sizes)
    extra: dict[str, Any] = field(default_factory=dict)

    def ratio(self, baseline: Baseline) -> float | None:
        """ours / baseline: for a rate, the share of the baseline we reach; for a latency, how
        many times slower we are."""
        if baseline.value is None or baseline.value == 0:
            return None
        return self.ours / baseline.value

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratios"] = {b.name: self.ratio(b) for b in self.baselines}
        return data


@dataclass(frozen=True)
class Environment:
    cpus: int
    python: str
    sqlite: str
    postgresql: str | None
    postgresql_settings: dict[str, str]
    platform: str
    scale: str
    repetitions: int

    @classmethod
    def probe(cls, *, scale: str, repetitions: int, postgresql: str | None,
              postgresql_settings: dict[str, str]) -> Environment:
        return cls(
            cpus=os.cpu_count() or 1, python=sys.version.split()[0], sqlite=sqlite3.sqlite_version,
            postgresql=postgresql, postgresql_settings=postgresql_settings,
            platform=platform.platform(), scale=scale, repetitions=repetitions,
        )

    def header(self) -> str:
        pg = self.postgresql or "not used"
        settings = ", ".join(f"{k}={v}" for k, v in self.postgresql_settings.items())
        return (f"{self.cpus} CPUs, Python {self.python}, PostgreSQL {pg}"
                f"{f' ({settings})' if settings else ''}, SQLite {self.sqlite}; "
                f"scale {self.scale}, {self.repetitions} interleaved repetitions, medians")


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def render_table(figures: list[Figure]) -> str:
    """A Markdown table (also what docs/benchmarks.md shows)."""
    lines = ["| scenario | case | unit | ours | baseline | value | ratio (ours / baseline) |",
             "|---|---|---|---:|---|---:|---:|"]
    for f in figures:
        baselines = f.baselines or [Baseline("-", None)]
        for i, b in enumerate(baselines):
            head = (f"| {f.scenario} | {f.case} | {f.unit} | {_number(f.ours)} " if i == 0
                    else "| | | | ")
            value = _number(b.value) if b.value is not None else b.reason or "-"
            lines.append(f"{head}| {b.name} | {value} | {_ratio(f.ratio(b))} |")
    return "\n".join(lines)


def print_report(environment: Environment, figures: list[Figure]) -> None:
    click.echo(environment.header())
    click.echo("")
    click.echo(render_table(figures))


def write_json(path: Path, environment: Environment, figures: list[Figure]) -> None:
    document = {"environment": asdict(environment), "figures": [f.as_dict() for f in figures]}
    path.write_text(json.dumps(document, indent=2) + "\n")
