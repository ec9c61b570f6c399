"""`lumina_tui.ai` loads its names lazily (`__getattr__`), which a type checker cannot follow: the
`if TYPE_CHECKING:` block imports each of them for mypy. This keeps the two lists the same, so no
exported name silently becomes `Any` to the checker (as `Suggestion` and `Score` once were)."""

from __future__ import annotations

import ast
from pathlib import Path

import lumina_tui.ai as ai

SOURCE = Path(ai.__file__)


def _type_checking_names() -> dict[str, str]:
    tree = ast.parse(SOURCE.read_text())
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
                for alias in stmt.names:
                    # `X as X`: an explicit re-export (mypy's no_implicit_reexport)
                    assert alias.asname == alias.name, f"write `{alias.name} as {alias.name}`"
                    names[alias.name] = (stmt.module or "").lstrip(".")
    return names


def test_every_lazy_export_is_imported_for_the_type_checker_from_the_same_module() -> None:
    assert _type_checking_names() == ai._EXPORTS


def test_the_lazy_exports_still_load_at_run_time() -> None:
    for name, module in ai._EXPORTS.items():
        value = getattr(ai, name)
        assert value.__module__.endswith(module), (name, value.__module__)
