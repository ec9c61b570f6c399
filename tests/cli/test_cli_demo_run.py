"""`make run` seeds the demo workspace through `lumina demo --quiet`, every time, changing nothing twice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from db_snapshot import count, snapshot

from lumina_tui.cli import main
from lumina_tui.config import load_settings

REPO = Path(__file__).resolve().parents[2]


def lumina_command() -> list[str]:
    """The installed `lumina` script beside this Python (what `make run` calls), else the module."""
    script = Path(sys.executable).with_name("lumina")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from lumina_tui.cli import main; main()"]


def run_lumina(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*lumina_command(), *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


def test_make_run_calls_the_demo_seed_before_the_composer() -> None:
    make = shutil.which("make")
    assert make, "make is part of the two-command promise of the README"
    dry = subprocess.run([make, "-n", "run"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = [line.strip() for line in dry.stdout.splitlines()]
    seed = next(i for i, line in enumerate(lines) if line.endswith("lumina demo --quiet"))
    composer = next(i for i, line in enumerate(lines) if line.endswith("/lumina") or line == "lumina")
    assert seed < composer


def test_lumina_demo_quiet_seeds_a_fresh_home_and_a_second_run_changes_nothing(lumina_home: Path) -> None:
    first = run_lumina("demo", "--quiet")
    assert first.returncode == 0, first.stderr
    assert (first.stdout, first.stderr) == ("", "")
    db_path = load_settings().db_path
    assert db_path.is_relative_to(lumina_home)
    assert count(db_path, "prospects", "is_demo = 1") >= 25
    assert count(db_path, "company_data", "is_demo = 1") == 8
    assert count(db_path, "templates", "is_demo = 1") == 3
    assert count(db_path, "accounts", "is_demo = 1 AND provider = 'maildir' AND is_default = 1") == 1
    before = snapshot(db_path)

    second = run_lumina("demo", "--quiet")
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert snapshot(db_path) == before

    chatty = run_lumina("demo")
    assert "nothing changed" in chatty.stdout
    assert snapshot(db_path) == before


def test_demo_json_and_reset_report_what_they_did() -> None:
    first = CliRunner().invoke(main, ["demo", "--json"])
    assert first.exit_code == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["changed"] is True and created["created"]["templates"] == 3
    reset = CliRunner().invoke(main, ["demo", "--reset", "--json"])
    assert reset.exit_code == 0, reset.stderr
    report = json.loads(reset.stdout)
    assert report["removed"]["prospects"] == report["created"]["prospects"] == created["created"]["prospects"]
    assert report["removed"]["accounts"] == report["created"]["accounts"] == 1
    human = CliRunner().invoke(main, ["demo", "--reset"])
    assert "Removed demo prospects: " in human.stdout and "Seeded demo prospects: " in human.stdout


def test_demo_reset_as_a_process_keeps_the_reps_draft_to_a_demo_prospect() -> None:
    """`lumina demo --reset` removes demo rows only: a draft the rep wrote to a demo prospect stays,
    with its text, addressed to the re-seeded prospect, and the report lists it."""
    assert run_lumina("demo", "--quiet").returncode == 0
    made = run_lumina("drafts", "new", "--prospect", "ana.okafor@brightwave.example", "--subject", "Mine",
                      "--json")
    assert made.returncode == 0, made.stderr
    draft_id = json.loads(made.stdout)["id"]

    reset = run_lumina("demo", "--reset", "--json")
    assert reset.returncode == 0, reset.stderr
    kept = json.loads(reset.stdout)["kept_drafts"]
    assert [(d["id"], d["prospect_email"], d["readdressed"]) for d in kept] == [
        (draft_id, "ana.okafor@brightwave.example", True)
    ]
    shown = run_lumina("drafts", "show", draft_id, "--json")
    assert shown.returncode == 0, shown.stderr
    ana = json.loads(run_lumina("prospects", "show", "ana.okafor@brightwave.example", "--json").stdout)
    draft = json.loads(shown.stdout)
    assert (draft["subject"], draft["prospect_id"]) == ("Mine", ana["id"])
    plain = run_lumina("demo", "--reset")
    assert "Kept your 1 draft(s)" in plain.stdout and draft_id in plain.stdout
