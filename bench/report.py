"""Runs every benchmark under bench/ and writes one report, bench/REPORT.md (also printed).

Run: `make bench` (or `.venv/bin/python bench/report.py [--quick] [--only store,send]`).

Each bench_*.py script measures and prints as it always did; run with `--json PATH` it also writes
its figures as rows (bench/benchrows.py). This script only runs them and renders the rows: one
table where every figure sits beside the baseline measured in the same run and the ratio (on a
noisy, shared machine the ratio is what counts), the design document's target and the project's
goal, met or not; then the growth table (figures at 1x, 10x, 100x the data) and its findings; and
the machine (cores, load average at the start and the end). A script that exits non-zero because
a goal was missed still reports its rows; one that wrote no rows is listed as failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
FINDINGS = BENCH / "FINDINGS.md"
ROOT = BENCH.parent
REPORT = BENCH / "REPORT.md"

# Smaller sample counts for `--quick` (a smoke run, or a machine too busy for the full one).
QUICK_ARGS: dict[str, list[str]] = {
    "bench_store": ["--saves", "500", "--rows", "2000"],
    "bench_cli": ["--runs", "8"],
    "bench_send": ["--quick"],
    "bench_tui": ["--keys", "100", "--cold-runs", "3", "--sends", "3"],
    "bench_growth": ["--quick"],
    "bench_stats": ["--quick"],
    "bench_team_workers": ["--quick"],
    "bench_api": ["--quick"],
}


def load() -> tuple[float, float, float]:
    return os.getloadavg()


def run_script(script: Path, quick: bool, rows_dir: Path) -> tuple[dict | None, int, float, str]:
    """Runs one bench script (its human output streams through); returns its rows, exit code,
    seconds and the tail of its output when it wrote no rows."""
    rows_file = rows_dir / f"{script.stem}.json"
    argv = [sys.executable, str(script), "--json", str(rows_file)]
    if quick:
        argv += QUICK_ARGS.get(script.stem, [])
    print(f"\n== {script.relative_to(ROOT)} {' '.join(argv[4:])}", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        tail = [*tail[-15:], line]
    code = proc.wait()
    elapsed = time.monotonic() - started
    if not rows_file.exists():
        return None, code, elapsed, "".join(tail)
    return json.loads(rows_file.read_text(encoding="utf-8")), code, elapsed, ""


def fmt(value: float | None) -> str:
    if value is None or value != value:  # NaN
        return "–"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def triple(q: dict[str, float] | None) -> str:
    if not q:
        return "–"
    if q["p50"] == q["p95"] == q["p99"]:
        return fmt(q["p50"])
    return f"{fmt(q['p50'])} / {fmt(q['p95'])} / {fmt(q['p99'])}"


def ratio(row: dict) -> str:
    ours, base = row["ours"], row.get("baseline")
    if not base or not base.get("p50"):
        return "–"
    r50 = ours["p50"] / base["p50"]
    if ours["p50"] == ours["p99"] and base["p50"] == base["p99"]:
        return f"{r50:.2f}x"
    r99 = ours["p99"] / base["p99"] if base["p99"] else float("nan")
    return f"{r50:.1f}x / {r99:.1f}x"


def verdict(met: bool | None) -> str:
    return "–" if met is None else ("met" if met else "**missed**")


def render(results: list[tuple[str, dict | None, int, float, str]], start_load, end_load,
           started: str, quick: bool) -> str:
    cores = os.cpu_count()
    out = [
        "# Lumina benchmark report",
        "",
        f"Run {started} UTC{' (quick: fewer samples)' if quick else ''}, "
        f"`{' '.join(['python', 'bench/report.py', *(['--quick'] if quick else [])])}`.",
        f"Machine: {cores} cores, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}; load average (1/5/15 min) at start "
        f"{', '.join(f'{v:.2f}' for v in start_load)}, at end {', '.join(f'{v:.2f}' for v in end_load)}.",
    ]
    if start_load[0] > (cores or 1) or end_load[0] > (cores or 1):
        out.append(
            f"**The machine was loaded** (load above its {cores} cores): absolute figures, p99 above all, "
            "are inflated by waiting for a core; the ratios to baselines measured in the same run are "
            "what to compare."
        )
    out += [
        "",
        "Figures are p50 / p95 / p99 (one value for a rate measured once). Ratio: ours / baseline at "
        "p50 / p99 (for rates, ours / baseline: above 1 is faster). Target: the design document "
        "(spec/lumina-flow.md, Success Metrics); goal: the project's own, stricter goal (issues).",
        "",
        "| Bench | Figure | Unit | Lumina p50 / p95 / p99 | Baseline (same run) | Baseline p50 / p95 / p99 "
        "| Ratio | Design target | Met | Project goal | Met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, data, _code, _elapsed, _tail in results:
        if data is None:
            continue
        for row in data["rows"]:
            out.append(
                f"| {name} | {row['figure']} | {row['unit']} | {triple(row['ours'])} | "
                f"{row.get('baseline_name') or '–'} | {triple(row.get('baseline'))} | {ratio(row)} | "
                f"{row.get('target') or '–'} | {verdict(row.get('target_met'))} | "
                f"{row.get('goal') or '–'} | {verdict(row.get('met'))} |"
            )
    growth = [(name, data) for name, data, *_ in results if data and data.get("growth")]
    for name, data in growth:
        out += ["", f"## How cost grows with the data ({name})", ""]
        scales = sorted({g["scale"] for g in data["growth"]}, key=lambda s: int(str(s).rstrip("x")))
        out.append("| Figure (ms, p50 / p95 / p99) | " + " | ".join(
            f"{s}: {next(g['data'] for g in data['growth'] if g['scale'] == s)}" for s in scales)
            + " | p50 at largest / smallest |")
        out.append("|---|" + "---|" * len(scales) + "---|")
        figures = list(dict.fromkeys(g["figure"] for g in data["growth"]))
        for figure in figures:
            cells = {g["scale"]: g for g in data["growth"] if g["figure"] == figure}
            first, last = cells[scales[0]], cells[scales[-1]]
            grow = last["p50"] / first["p50"] if first["p50"] else float("nan")
            out.append(f"| {figure} | " + " | ".join(triple(cells.get(s)) for s in scales)
                       + f" | {grow:.1f}x |")
        if data.get("findings"):
            out += ["", "Findings:", ""] + [f"- {f}" for f in data["findings"]]
    out += ["", "## Scripts", "", "| Script | Exit | Seconds | Rows |", "|---|---|---|---|"]
    for name, data, code, elapsed, _tail in results:
        rows = "no rows: **failed**" if data is None else str(len(data["rows"]) + len(data.get("growth", [])))
        note = " (a goal missed)" if code == 1 and data is not None else ""
        out.append(f"| {name} | {code}{note} | {elapsed:.0f} | {rows} |")
    for name, data, code, _elapsed, tail in results:
        if data is None:
            out += ["", f"{name} failed (exit {code}); its last lines:", "", "```", tail.rstrip(), "```"]
    if FINDINGS.exists():  # the profiles, causes and fixes written by hand: kept across runs
        out += ["", FINDINGS.read_text(encoding="utf-8").rstrip()]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples per script")
    parser.add_argument("--only", help="comma-separated script names (store,send,...) to run")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args()
    scripts = sorted(BENCH.glob("bench_*.py"))
    if args.only:
        wanted = {f"bench_{n.strip().removeprefix('bench_')}" for n in args.only.split(",")}
        scripts = [s for s in scripts if s.stem in wanted]
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    start_load = load()
    results = []
    with tempfile.TemporaryDirectory(prefix="lumina-bench-rows-") as rows_dir:
        for script in scripts:
            data, code, elapsed, tail = run_script(script, args.quick, Path(rows_dir))
            results.append((script.stem.removeprefix("bench_"), data, code, elapsed, tail))
    text = render(results, start_load, load(), started, args.quick)
    args.out.write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"written to {args.out}")
    return 0 if all(data is not None for _, data, *_ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
