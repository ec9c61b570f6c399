"""A snapshot mismatch printed as text: CI shows only the test output, not the HTML report.

pytest-textual-snapshot keeps each comparison (expected SVG, actual SVG) in a pickle beside the
report; on a failed snapshot test this prints both screens' text rows and which rows differ, so a
flaky snapshot on CI says what changed (a row, a colour-only change, a toast) without the report.
"""

from __future__ import annotations

import difflib
import html
import pickle
import re

import pytest

_TEXT = re.compile(r'<text class="([^"]*)" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>')


def svg_rows(svg: str) -> list[str]:
    """The screen's text, one string per row, in the order shown."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for match in _TEXT.finditer(svg):
        x, y = float(match.group(2)), float(match.group(3))
        rows.setdefault(y, []).append((x, html.unescape(match.group(4)).replace("\xa0", " ")))
    return ["".join(text for _x, text in sorted(cells)).rstrip() for _y, cells in sorted(rows.items())]


def svg_styles(svg: str) -> list[str]:
    """Each text run's style class with its text, to tell a colour-only change from a text change."""
    return [f"{m.group(1)}:{html.unescape(m.group(4))}" for m in _TEXT.finditer(svg)]


def mismatch_text(item: pytest.Item) -> str | None:
    """The text diff of a failed snapshot comparison of `item`, or None when it compared nothing."""
    from pytest_textual_snapshot import node_to_report_path

    path = node_to_report_path(item)
    if not path.exists():
        return None
    result, expected, actual = pickle.loads(path.read_bytes())[:3]
    if result:
        return None
    text = "\n".join(
        difflib.unified_diff(svg_rows(expected), svg_rows(actual), "snapshot", "actual", lineterm="", n=1)
    )
    if not text:
        styles = difflib.unified_diff(
            svg_styles(expected), svg_styles(actual), "snapshot", "actual", lineterm="", n=0
        )
        text = "same text; styles differ:\n" + "\n".join(list(styles)[:60])
    return text
