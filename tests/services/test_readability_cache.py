"""The hyphenation cache: a second process reads the parsed table instead of parsing it, the
reading grade is the same either way, and a broken cache file only means parsing again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
import pyphen
parsed = []
original = pyphen.HyphDict.__init__
def counting(self, path):
    parsed.append(str(path))
    original(self, path)
pyphen.HyphDict.__init__ = counting
from lumina_tui.services import ai
result = ai.score_message(b"Subject: Research time\\n\\nHi Dana,\\n\\nLumina cuts research time "
                          b"by 40 percent for revenue organizations. Would a call make sense?\\n")
print(json.dumps({"grade": result.signals.reading_grade, "parsed": len(parsed)}))
"""


def _score(home: Path) -> dict:
    env = {**os.environ, "LUMINA_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_second_process_reads_the_cached_table(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _score(home)
    assert first["parsed"] == 1 and first["grade"] > 0
    [cached] = (home / "cache").glob("pyphen-*.marshal")
    second = _score(home)
    assert second == {"grade": first["grade"], "parsed": 0}

    cached.write_bytes(b"\x00not marshal data")
    third = _score(home)
    assert third == {"grade": first["grade"], "parsed": 1}
    assert _score(home) == second  # rewritten whole by the third run

    cached.write_bytes(b"")  # truncated
    assert _score(home)["grade"] == first["grade"]


def test_unwritable_cache_folder_still_scores(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the folder should be")
    result = _score(home)
    assert result["grade"] > 0 and result["parsed"] == 1
