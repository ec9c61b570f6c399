"""Two OS processes, 4 writer threads each, 1,000 saves per thread, one SQLite file: never "locked".

`db.write()` takes the write lock with BEGIN IMMEDIATE and waits for it (busy timeout), so writers
queue instead of failing; readers never block in WAL mode.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lumina_tui.services import drafts
from lumina_tui.store import new_id

WRITER = Path(__file__).with_name("draft_writer_process.py")
PROCESSES, THREADS, SAVES = 2, 4, 1_000


def test_two_processes_of_four_writers_never_see_database_is_locked(db, actor) -> None:
    shared = new_id()
    children = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                db.url,
                actor.workspace_id,
                actor.user_id,
                str(p * THREADS),
                str(THREADS),
                str(SAVES),
                shared,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(PROCESSES)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:  # both start together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=240)
            assert child.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()

    errors = [e for r in results for e in r["errors"]]
    assert not any("locked" in e for e in errors), errors
    assert sum(r["error_count"] for r in results) == 0, errors
    total = sum(sum(r["outcomes"].values()) for r in results)
    assert total == PROCESSES * THREADS * SAVES
    # Every writer's own draft ends at its last revision; the shared one at the highest of all.
    for result in results:
        for index, draft_id in result["own"].items():
            stored = drafts.get(db, actor, draft_id)
            assert (stored.revision, stored.subject) == (SAVES, f"writer {index} revision {SAVES}")
    highest = (SAVES - 4) * 8 + PROCESSES * THREADS
    stored = drafts.get(db, actor, shared)
    assert (stored.revision, stored.subject) == (highest, f"shared revision {highest}")


CLI_SAVER = Path(__file__).with_name("cli_save_process.py")


def test_drafts_save_without_revision_from_two_processes_never_conflicts(db, actor) -> None:
    """`lumina drafts save ID` (no --revision) reads the stored revision and saves the next one in
    one transaction: 2 processes x 60 saves of one draft are 120 new revisions, no conflict."""
    saves = 60
    draft = drafts.save(db, actor, new_id(), 1, subject="start", body="body").draft
    children = [
        subprocess.Popen(
            [sys.executable, str(CLI_SAVER), draft.id, str(saves), f"process {p}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=240)
            assert child.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    failures = [e for r in results for e in r["errors"]]
    assert all(r["exit_codes"] == {"0": saves} for r in results), failures
    assert drafts.get(db, actor, draft.id).revision == 1 + 2 * saves
