"""Machine-readable rows for `bench/report.py`: each bench script measures, this module only records.

A bench script keeps its human output and, when run with `--json PATH`, also writes the figures it
measured as rows (figure, unit, our p50/p95/p99, the baseline measured in the same run, the design
document's target and the project's goal, met or not). `report.py` runs every script with
`--json` and renders one table from the rows, so no measuring code is duplicated.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


def quantiles(samples: list[float], scale: float = 1000.0) -> dict[str, float]:
    """p50/p95/p99 of `samples` (seconds by default) in the row's unit (ms by default)."""
    ordered = sorted(samples)
    if not ordered:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * scale

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def single(value: float) -> dict[str, float]:
    """One figure (a rate measured once): the same value in every column."""
    return {"p50": value, "p95": value, "p99": value}


@dataclass
class Row:
    """One line of the report: a figure beside its baseline, target and goal."""

    bench: str
    figure: str
    unit: str  # "ms" (lower is better) or "emails/s", "rows/s" (higher is better)
    ours: dict[str, float]
    baseline_name: str = ""
    baseline: dict[str, float] | None = None
    target: str = ""  # the design document's target (spec/lumina-flow.md, Success Metrics)
    goal: str = ""  # the project's goal (issues)
    met: bool | None = None  # the goal
    target_met: bool | None = None
    higher_is_better: bool = False
    note: str = ""


@dataclass
class Rows:
    """The rows one bench script measured; written as JSON when the script got `--json PATH`."""

    bench: str
    path: str | None
    rows: list[Row] = field(default_factory=list)
    growth: list[dict[str, object]] = field(default_factory=list)  # figure, scale, data, p50/p95/p99
    findings: list[str] = field(default_factory=list)

    def add(self, figure: str, unit: str, ours: dict[str, float], **extra: object) -> None:
        self.rows.append(Row(bench=self.bench, figure=figure, unit=unit, ours=ours, **extra))  # type: ignore[arg-type]

    def write(self) -> None:
        if not self.path:
            return
        Path(self.path).write_text(
            json.dumps({"bench": self.bench, "load": os.getloadavg(), "rows": [asdict(r) for r in self.rows],
                        "growth": self.growth, "findings": self.findings}, indent=1),
            encoding="utf-8",
        )
