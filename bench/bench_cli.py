"""Command-line start-up: scripting verbs as whole processes, against `python -c pass`.

A rep's script runs `lumina ai score --file X --json` once per message, so what counts is the
whole process: interpreter start, imports, the work, exit. Each verb runs as a fresh process,
interleaved with a bare `python -c pass` in the same rounds (shuffled order per round), so a
machine that is busy slows both alike. Prints p50/p95 of wall time and of the child's CPU time
(user + system), and the ratio to the bare interpreter.

Goals (issue 9 point 22): `ai score --file` under 0.4 s, `prospects list --json` and
`drafts show` under 0.5 s. Checked on the p50 of CPU time (wall time includes waiting for a core
on a shared machine; it is printed beside it). Exits 1 if a goal is missed.

Run: .venv/bin/python bench/bench_cli.py [--runs 25]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchrows import Rows, quantiles

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LUMINA = BIN / "lumina"

MESSAGE = (
    "From: Jordan Lee <jordan@lumina.example>\r\n"
    "To: Dana Whitfield <dana@northwind.example>\r\n"
    "Subject: Research time at Northwind Logistics\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hi Dana,\r\n\r\n"
    "I noticed Northwind Logistics is hiring SDRs in Denver. Lumina cuts prospect research time "
    "by 40% and plugs into Salesforce and HubSpot, so reps spend their mornings selling.\r\n\r\n"
    "Would a 20-minute call on Thursday make sense?\r\n\r\n"
    "Best,\r\nJordan\r\n"
)


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process (CPU from this process's children's rusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True,
                          stdin=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def prepare(home: Path, env: dict[str, str]) -> tuple[Path, str]:
    """A demo workspace (prospects), one draft to show, and a message file to score."""
    subprocess.run([str(LUMINA), "demo", "--quiet"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    listed = subprocess.run([str(LUMINA), "prospects", "list", "--json"], env=env, check=True,
                            capture_output=True, text=True)
    prospects = json.loads(listed.stdout)["items"]
    if not prospects:
        raise SystemExit("the demo workspace has no prospect")
    message = home / "message.eml"
    message.write_bytes(MESSAGE.encode())
    body = home / "body.txt"
    body.write_text(MESSAGE.split("\r\n\r\n", 1)[1].replace("\r\n", "\n"), encoding="utf-8")
    created = subprocess.run(
        [str(LUMINA), "drafts", "new", "--prospect", prospects[0]["id"], "--subject",
         "Research time", "--body-file", str(body), "--json"],
        env=env, check=True, capture_output=True, text=True)
    return message, json.loads(created.stdout)["id"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="processes per command (default 25)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    parser.add_argument("--no-pyc", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE as the shell has it (no .pyc files)")
    args = parser.parse_args()
    rows = Rows("cli", args.json)

    home = Path(tempfile.mkdtemp(prefix="lumina-bench-cli-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("LUMINA_")}
    env.update({"LUMINA_HOME": str(home), "LUMINA_WORKER__AUTOSTART_SIDECAR": "false",
                "LUMINA_AI_ENGINE": "offline"})
    # An installed Lumina has its .pyc files (pip byte-compiles a wheel). A shell or CI job with
    # PYTHONDONTWRITEBYTECODE=1 would make every measured process compile ~30 of Lumina's
    # modules from source (~0.15 s of CPU each time), which no rep's machine does. The warm-up
    # round below writes them, into a folder of this run (PYTHONPYCACHEPREFIX): the checkout
    # stays clean. `--no-pyc` measures the other way.
    if not args.no_pyc:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    try:
        message, draft_id = prepare(home, env)
        commands: dict[str, tuple[list[str], float | None]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "lumina ai score --file X --json": (
                [str(LUMINA), "ai", "score", "--file", str(message), "--json"], 0.4),
            "lumina prospects list --json": ([str(LUMINA), "prospects", "list", "--json"], 0.5),
            "lumina drafts show ID --json": (
                [str(LUMINA), "drafts", "show", draft_id, "--json"], 0.5),
        }
        samples = {name: Samples() for name in commands}
        rng = random.Random(22)
        for argv, _ in commands.values():  # warm the page cache and .pyc files
            run_once(argv, env)
        for _ in range(args.runs):
            order = list(commands)
            rng.shuffle(order)
            for name in order:
                wall, cpu = run_once(commands[name][0], env)
                samples[name].wall.append(wall)
                samples[name].cpu.append(cpu)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    pyc = "no .pyc files" if args.no_pyc and os.environ.get("PYTHONDONTWRITEBYTECODE") else ".pyc files"
    print(f"CLI start-up, whole processes ({args.runs} runs each, interleaved, {pyc}; Python "
          f"{sys.version.split()[0]}; {os.cpu_count()} CPUs, load average {load})")
    base = samples["python -c pass"]
    base_wall, base_cpu = statistics.median(base.wall), statistics.median(base.cpu)
    ok = True
    for name, (_, goal) in commands.items():
        got = samples[name]
        wall50, wall95 = percentile(got.wall, 0.5), percentile(got.wall, 0.95)
        cpu50, cpu95 = percentile(got.cpu, 0.5), percentile(got.cpu, 0.95)
        line = (f"{name:<34} wall p50 {wall50 * 1000:6.0f} ms p95 {wall95 * 1000:6.0f} ms "
                f"({wall50 / base_wall:5.1f}x)   cpu p50 {cpu50 * 1000:6.0f} ms "
                f"p95 {cpu95 * 1000:6.0f} ms ({cpu50 / base_cpu if base_cpu else 0:5.1f}x)")
        if goal is not None:
            good = cpu50 < goal
            ok &= good
            line += f"   goal < {goal * 1000:g} ms {'PASS' if good else 'FAIL'}"
        print(line)
        if goal is not None:
            rows.add(f"`{name}` CPU", "ms", quantiles(got.cpu), baseline_name="`python -c pass` CPU",
                     baseline=quantiles(base.cpu),
                     goal=f"CPU p50 < {goal * 1000:g} ms", met=cpu50 < goal)
            rows.add(f"`{name}` wall", "ms", quantiles(got.wall), baseline_name="`python -c pass` wall",
                     baseline=quantiles(base.wall), target="p95 < 500 ms (API)",
                     target_met=percentile(got.wall, 0.95) < 0.5)
    rows.write()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
