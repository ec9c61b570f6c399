"""`lumina --version` and `lumina --help` stay fast: they import neither Textual, SQLModel nor openai."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = {"textual", "sqlmodel", "sqlalchemy", "openai", "huey", "rich"}
PROBE = """
import json, sys
sys.argv = ["lumina", *json.loads(sys.argv[1])]
from lumina_tui.cli import main
try:
    main()
except SystemExit as exit:
    code = exit.code
print("\\nLOADED " + json.dumps(sorted({m.split('.')[0] for m in sys.modules})) + " " + json.dumps(code))
"""


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--version"], "lumina, version"),
        (["--help"], "prospects"),
        (["drafts", "--help"], "save"),
        (["prospects", "import", "--help"], "CSV"),
    ],
)
def test_help_and_version_do_not_import_heavy_modules(args: list[str], shown: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    head, _, tail = done.stdout.rpartition("\nLOADED ")
    assert shown in head
    modules_json, _, code = tail.strip().rpartition(" ")
    assert json.loads(code) in (0, None)
    loaded = set(json.loads(modules_json))
    assert "lumina_tui" in loaded
    assert loaded & HEAVY == set()
