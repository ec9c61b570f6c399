"""Text fields that never hold a control character: what the rep edits is what the terminal shows.

Textual's Input and TextArea draw their text as it is, so a subject holding ESC (a clear-screen or an
OSC 8 link), U+009B (an 8-bit CSI) or U+202E (a BiDi override that reverses what the rep reads)
reaches the terminal raw while the rep writes it: from a paste, `$EDITOR`, a template, a suggestion
or a draft stored by `lumina drafts save`. These fields turn every such character into its visible
form (`terminal_safe`, the rule every other screen uses: ESC shows as ␛, U+202E as `<U+202E>`) the
moment it enters the field, whichever way it enters (typing, paste, a value set by the code, a
whole-body replacement), so nothing raw is ever drawn and the draft holds exactly what the rep sees.
A header may not carry those characters anyway (the send refuses them, issue 9.4); a body would have
carried them invisibly to the prospect.

Mapping each character when it enters, rather than only when it is drawn, keeps the cursor honest:
the widget's own cell arithmetic sees the same text the screen shows.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, TextArea
from textual.widgets.text_area import Edit, EditResult  # Edit: what typing, paste and replace apply

from lumina_tui.services.terminal_text import has_unsafe, terminal_safe


def visible_line(text: str) -> str:
    """One line's text with its control characters made visible (a newline shows as ␊)."""
    return terminal_safe(text) if has_unsafe(text) else text


def visible_lines(text: str) -> str:
    """A body's text with its control characters made visible; line breaks (CRLF, CR) become "\\n"."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return terminal_safe(text, multiline=True)


class SafeInput(Input):
    """An Input whose value never holds a control character (they are shown, see the module)."""

    def validate_value(self, value: str) -> str:
        # Textual calls this for every assignment to `value`: typing, paste and code alike.
        return visible_line(value)

    def replace(self, text: str, start: int, end: int) -> None:
        # Map before inserting, so the cursor lands after what is shown (`<U+202E>` is 8 cells).
        super().replace(visible_line(text), start, end)


class SafeTextArea(TextArea):
    """A TextArea whose document never holds a control character (they are shown, see the module)."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(visible_lines(text), **kwargs)

    def load_text(self, text: str) -> None:
        super().load_text(visible_lines(text))

    def edit(self, edit: Edit) -> EditResult:
        edit.text = visible_lines(edit.text)
        return super().edit(edit)
