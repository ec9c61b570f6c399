"""The draft's body: a soft-wrapping TextArea whose programmatic changes are single undo steps.

Accepting a suggestion, filling a template or coming back from $EDITOR replaces the body through
TextArea's edit API between two checkpoints, so one ctrl+z restores exactly what was there. When
that change also replaced the subject (an Input, with no shared history), undoing it posts
`ReplacementUndone` so the composer can put the old subject back too.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from lumina_tui.tui.widgets.safe_text import SafeTextArea, visible_lines


class BodyEditor(SafeTextArea):
    @dataclass
    class ReplacementUndone(Message):
        """The rep undid a whole-body replacement; `subject_before` is the subject it replaced and
        `suggestion_id` the accepted suggestion it applied (None for a template or $EDITOR)."""

        subject_before: str | None
        suggestion_id: str | None = None

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self._replacement: tuple[object, str | None, str | None] | None = None

    def replace_all(
        self, text: str, *, subject_before: str | None = None, suggestion_id: str | None = None
    ) -> None:
        """Replace the whole body as one undoable edit; the cursor stays where it was (clamped)."""
        text = visible_lines(text)  # compared as the editor will hold it
        if text == self.text:
            self._replacement = None
            return
        row, column = self.cursor_location
        self.history.checkpoint()
        self.replace(text, (0, 0), self.document.end, maintain_selection_offset=False)
        self.history.checkpoint()
        stack = self.history.undo_stack
        self._replacement = (stack[-1], subject_before, suggestion_id) if stack else None
        lines = self.document.line_count
        row = min(row, lines - 1)
        self.move_cursor((row, min(column, len(self.document.get_line(row)))))

    def undo(self) -> None:
        stack = self.history.undo_stack
        top = stack[-1] if stack else None
        marked = self._replacement
        super().undo()
        if marked is not None and top is marked[0]:
            self._replacement = None
            self.post_message(self.ReplacementUndone(marked[1], marked[2]))
