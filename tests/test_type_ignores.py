"""Every `# type: ignore` in a type-checked package names its error code and says why.

mypy itself rejects an ignore without a code (`ignore-without-code`) and one that hides nothing
(`warn_unused_ignores`); what it cannot check is the reason, so a reader knows the ignore is a
decision and not a shrug. The form is `# type: ignore[code]  # why`.

Packages still listed under `ignore_errors` in pyproject.toml are not checked yet and are skipped
here too; each leaves that list when it is clean.
"""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lumina_tui"

IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<rest>.*)$")
WITH_REASON = re.compile(r"^\[[a-z-]+(?:,\s*[a-z-]+)*\]\s+#\s*\S.{4,}")


def _unchecked_patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    patterns: list[str] = []
    for override in config.get("overrides", []):
        if override.get("ignore_errors"):
            modules = override["module"]
            patterns += [modules] if isinstance(modules, str) else modules
    return patterns


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_unchecked(module: str, patterns: list[str]) -> bool:
    # mypy's `pkg.*` matches pkg itself and everything under it.
    return any(
        module == pattern or fnmatchcase(module, pattern) or module == pattern.removesuffix(".*")
        for pattern in patterns
    )


def test_every_type_ignore_in_checked_code_has_a_code_and_a_reason() -> None:
    patterns = _unchecked_patterns()
    bare: list[str] = []
    checked_files = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        if _is_unchecked(_module_name(path), patterns):
            continue
        checked_files += 1
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = IGNORE.search(line)
            if found and not WITH_REASON.match(found["rest"]):
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert checked_files > 0, "every package is excluded: the check would prove nothing"
    assert not bare, "say why after the code: `# type: ignore[code]  # why`\n" + "\n".join(bare)


def test_the_reason_rule_recognises_bare_and_explained_ignores() -> None:
    def explained(line: str) -> bool:
        found = IGNORE.search(line)
        return bool(found and WITH_REASON.match(found["rest"]))

    assert explained("x = y  # type: ignore[attr-defined]  # Pyphen's cache is not in its stubs")
    assert explained("x = y  # type: ignore[operator,no-any-return]  # untyped library call")
    assert not explained("x = y  # type: ignore")
    assert not explained("x = y  # type: ignore[attr-defined]")
    assert not explained("x = y  # type: ignore  # no code given")


def test_an_unchecked_package_pattern_matches_its_modules() -> None:
    assert _is_unchecked("lumina_tui.tui.app", ["lumina_tui.tui.*"])
    assert _is_unchecked("lumina_tui.tui", ["lumina_tui.tui.*"])
    assert _is_unchecked("lumina_tui.queue", ["lumina_tui.queue"])
    assert not _is_unchecked("lumina_tui.queue_extra", ["lumina_tui.queue"])
    assert not _is_unchecked("lumina_tui.ai.cache", ["lumina_tui.tui.*"])
