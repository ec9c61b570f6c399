"""docs/ and the README stand alone: every file, test and link they name is in this repository.

A fresh clone has nothing beside it, so a design note that points outside the repository, or an
invariant whose "shown by" test was renamed away, is a promise nobody can check. Paths are read from
the backticked names and markdown links of docs/*.md, README.md and CONTRIBUTING.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
TEST_REF = re.compile(r"`?(tests/[\w/]+\.py)((?:::\w+)?)")
SIBLING_TEST = re.compile(r"`::(\w+)`")
# Backticked paths of the package as docs write them: relative to lumina_tui/ (`services/leases.py`).
PACKAGE_REF = re.compile(r"`((?:store|services|worker|tui|ai|api|cli|providers)/[\w/]+\.py)`")


def _pages() -> list[Path]:
    return [page for page in PAGES if page.exists()]


@pytest.mark.parametrize("page", _pages(), ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = (page.parent / target).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert not broken, f"{page.name} links outside the repository or to nothing: {broken}"


@pytest.mark.parametrize("page", _pages(), ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_named_test_and_module_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = []
    for line in text.splitlines():
        last_file: Path | None = None
        for path, test in TEST_REF.findall(line):
            last_file = ROOT / path
            if not last_file.exists():
                missing.append(path)
            elif test and not re.search(rf"def {test[2:]}\b", last_file.read_text(encoding="utf-8")):
                missing.append(path + test)
        # `::name` after a test file on the same line names another test of that file.
        for test in SIBLING_TEST.findall(line):
            if last_file is None or not last_file.exists():
                continue
            if not re.search(rf"def {test}\b", last_file.read_text(encoding="utf-8")):
                missing.append(f"{last_file.relative_to(ROOT)}::{test}")
        for module in PACKAGE_REF.findall(line):
            if not (ROOT / "lumina_tui" / module).exists() and not (ROOT / module).exists():
                missing.append(module)
    assert not missing, f"{page.name} names what is not in the repository: {missing}"
