"""Stored text → text that is safe to put on a terminal: the one rule every screen uses.

Names, subjects, bodies and CSV cells are data written by someone else (a prospect, a CRM export, a
mailbox). On a terminal, a control character in them is an instruction: ESC starts a sequence that
can clear the screen, retitle the window or plant a clickable link (OSC 8), and a BiDi override
(U+202E) reverses what the rep reads. So every place that prints stored text runs it through
`terminal_safe`, which makes those characters *visible* instead of obeying them: C0 controls become
their Unicode control pictures (ESC shows as ␛), the rest are written as `<U+202E>`. Nothing is
dropped, so a rep can still see that a value is odd.

Markup is the other half: Rich and Textual parse `[link=…]` and `[/]` in plain strings. The callers
never interpolate stored text into markup; they wrap the result in `rich.text.Text` or Textual's
`Content`, which are not parsed (the CLI's `tables` module and the TUI widgets do this).

Pure stdlib on purpose: the CLI, the TUI and the JSON writer all import it, cheaply.
"""

from __future__ import annotations

import re
from typing import Any

_NEWLINE, _TAB = 0x0A, 0x09

# Format characters that reorder or hide text (Trojan Source, CVE-2021-42574) and the Unicode line
# and paragraph separators, which some terminals and most editors treat as a line break.
_REORDERING = [
    0x061C,  # ALM
    0x200E,  # LRM
    0x200F,  # RLM
    0x2028,  # LINE SEPARATOR
    0x2029,  # PARAGRAPH SEPARATOR
    *range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
    *range(0x2066, 0x206A),  # LRI RLI FSI PDI
]


def _code_point(code: int) -> str:
    return f"<U+{code:04X}>"


def _table(*, multiline: bool) -> dict[int, str]:
    table: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␟
    table[0x7F] = "\u2421"  # ␡
    table.update({code: _code_point(code) for code in range(0x80, 0xA0)})  # C1: 0x9B is an 8-bit CSI
    table.update({code: _code_point(code) for code in _REORDERING})
    # Lone surrogates (undecodable bytes kept by surrogateescape) cannot be written to a terminal.
    table.update({code: "\ufffd" for code in range(0xD800, 0xE000)})
    if multiline:
        del table[_NEWLINE]
        del table[_TAB]
    return table


_ONE_LINE = _table(multiline=False)
_MULTI_LINE = _table(multiline=True)
UNSAFE_CODE_POINTS: frozenset[int] = frozenset(_ONE_LINE)


def terminal_safe(value: Any, *, multiline: bool = False) -> str:
    """`value` as text whose control and reordering characters are visible, never obeyed.

    One-line values (names, subjects, ids, table cells) show a newline as ␊ so a value cannot fake
    extra rows; `multiline=True` (bodies) keeps newlines and tabs.
    """
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return text.translate(_MULTI_LINE if multiline else _ONE_LINE)


def has_unsafe(text: str) -> bool:
    """True when `terminal_safe` would change `text` (one C-speed scan)."""
    return _UNSAFE.search(text) is not None


def _class(codes: frozenset[int]) -> str:
    """The set as a character class of ranges (`a-b`): 2,000 single escapes took ~40 ms to compile,
    paid by every CLI command at start-up."""
    ordered = sorted(codes)
    runs: list[tuple[int, int]] = []
    for code in ordered:
        if runs and code == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    return "".join(
        f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}" for first, last in runs
    )


# The same sets as regular-expression classes: a scan of a long JSON document stays in C.
_UNSAFE = re.compile(f"[{_class(UNSAFE_CODE_POINTS)}]")
_UNSAFE_IN_JSON = re.compile(f"[{_class(frozenset(c for c in UNSAFE_CODE_POINTS if c >= 0x7F))}]")


def json_safe(document: str) -> str:
    """A JSON text with the terminal-unsafe characters written as `\\uXXXX` escapes.

    `json.dumps(ensure_ascii=False)` leaves C1 controls, BiDi overrides and U+2028 raw; escaped,
    the parsed document is identical, and a person reading the JSON on a terminal is not fooled.
    (json.dumps escapes C0 controls itself, and its own layout uses only newlines and spaces; lone
    surrogates get the same escape, so the text can always be encoded.)
    """
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", document)
